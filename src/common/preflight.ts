import Redis, { Cluster } from 'ioredis';
import { Client } from 'pg';
import { fanoutClusterNodes, type EnvironmentVariables } from '../config/env.validation';

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
  const clusterNodes = fanoutClusterNodes(env);
  if (clusterNodes) await preflightFanoutCluster(clusterNodes, env.REDIS_FANOUT_CLUSTER_NODES ?? '');
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

/** SOCKET_ADAPTER=sharded: the fan-out cluster answers, its slots are all served (cluster_state:ok) and it speaks SPUBLISH (Redis 7). */
async function preflightFanoutCluster(nodes: { host: string; port: number }[], seeds: string): Promise<void> {
  const cluster = new Cluster(nodes, {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: { connectTimeout: 5000, maxRetriesPerRequest: 0 },
  });
  let lastError: unknown;
  cluster.on('error', (error: unknown) => (lastError = error)); // reported below, once
  try {
    await cluster.connect();
    const info = await cluster.info('server');
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    if (major < 7) throw new PreflightError(`The Redis Cluster at REDIS_FANOUT_CLUSTER_NODES=${seeds} runs Redis ${major}: sharded pub/sub (SOCKET_ADAPTER=sharded) needs Redis 7 or later`);
  } catch (error) {
    if (error instanceof PreflightError) throw error;
    throw new PreflightError(
      `The Redis Cluster at REDIS_FANOUT_CLUSTER_NODES=${seeds} does not answer or is not ok (${reason(lastError ?? error)}): start it, fix REDIS_FANOUT_CLUSTER_NODES or set SOCKET_ADAPTER=classic`,
    );
  } finally {
    cluster.disconnect();
  }
}
