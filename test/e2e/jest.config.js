/** The browser suite (`npm run test:e2e`): kept out of `npm test`'s roots, same database setup. */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/e2e/tsconfig.json', useESM: true }],
  },
  roots: ['<rootDir>/test/e2e'],
  testRegex: '.*\\.e2e\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 300000,
};
