/**
 * The test database and Redis; tests never touch the dev database. Each jest run gets its own
 * database (set by global-setup.ts), so concurrent runs on one machine cannot disturb each other.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pigeon_test';
/**
 * The same database as the application role the servers use (no BYPASSRLS, not the owner), so
 * row-level security applies to them; TEST_DATABASE_URL (the owner) is for the tests' own checks.
 */
export const TEST_APP_DATABASE_URL = process.env.TEST_APP_DATABASE_URL ?? appRoleUrl(TEST_DATABASE_URL);

export function appRoleUrl(ownerUrl: string): string {
  const url = new URL(ownerUrl);
  url.username = process.env.TEST_APP_ROLE ?? 'pigeon_app';
  url.password = '';
  return url.toString();
}
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_JWT_SECRET = 'pigeon-test-secret-0123456789abcdef0123456789';
/** REDIS_PREFIX of the servers this run starts (set per run by global-setup.ts). */
export const TEST_REDIS_PREFIX = process.env.TEST_REDIS_PREFIX ?? 'pigeon-test';
