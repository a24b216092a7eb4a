import Redis from 'ioredis';
import { Client } from 'pg';
import type { EnvironmentVariables } from '../config/env.validation';

/** A boot failure worth one clear line: what is wrong, which setting, what to do. */
export class PreflightError extends Error {}

/** The URL without its password, for messages. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

const reason = (error: unknown) => (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));

/**
 * Checks that Redis and Postgres answer before Nest starts, so an unreachable service is one line
 * naming the variable (not a storm of driver stack traces), and the process exits non-zero.
 */
export async function preflight(env: EnvironmentVariables): Promise<void> {
  const redis = new Redis(env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  let lastError: unknown;
  redis.on('error', (error: unknown) => (lastError = error)); // reported below, once
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const why = reason(lastError ?? error);
    throw new PreflightError(`Redis at REDIS_URL=${shown(env.REDIS_URL)} does not answer (${why}): start Redis or set REDIS_URL`);
  } finally {
    redis.disconnect();
  }
  const postgres = new Client({ connectionString: env.DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await postgres.connect();
  } catch (error) {
    // A missing database is fine here: `npm start` and the migrator create it.
    if ((error as { code?: string }).code !== '3D000') {
      throw new PreflightError(`Postgres at DATABASE_URL=${shown(env.DATABASE_URL)} does not answer (${reason(error)}): start Postgres or set DATABASE_URL`);
    }
  } finally {
    await postgres.end().catch(() => undefined);
  }
}
