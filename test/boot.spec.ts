import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TEST_DATABASE_URL, TEST_JWT_SECRET } from './support/env';

/** Boot failures are one clear line naming the setting, then a non-zero exit (issue 14). */
describe('boot failures', () => {
  const boot = (entry: string, env: Record<string, string>) =>
    spawnSync(process.execPath, [join(process.cwd(), 'dist', entry)], {
      env: { ...process.env, NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, DATABASE_URL: TEST_DATABASE_URL, RUN_MIGRATIONS: 'false', PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it.each([
    ['main.js', { REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }, /REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:1 does not answer \(ECONNREFUSED\)/],
    ['worker.js', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/pigeon' }, /DATABASE_URL=\S+ does not answer \(ECONNREFUSED\)/],
    ['main.js', { PORT: 'abc' }, /PORT="abc"/],
  ])('%s with %j says so in one line and exits non-zero', (entry, env, expected) => {
    const result = boot(entry, env);
    expect(result.status).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/JWT_SECRET|trace-warnings/.test(line));
    expect(lines.join('\n')).toMatch(expected);
    // The password never shows, and there is no stack-trace storm.
    expect(result.stderr).not.toContain('hunter2');
    expect(lines.length).toBeLessThanOrEqual(3);
  });
});
