import { DEV_DATABASE_URL, databaseUrls } from '../database/database-urls';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

let warnedDevSecret = false;
/** Warnings found while validating, for the process to log once through its logger (not process.emitWarning). */
const configWarnings: string[] = [];
export const takeConfigWarnings = (): string[] => configWarnings.splice(0);
const DEV_JWT_SECRET = 'pigeon-dev-secret-change-me-0123456789abcdef';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : value === true || value === 'true' || value === '1';
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
/** An empty string or comma-separated `<scheme>:` / `<scheme>s:` URLs without spaces inside. */
const ICE_URL_LIST = (scheme: string) => new RegExp(`^\\s*(${scheme}s?:[^\\s,]+(\\s*,\\s*${scheme}s?:[^\\s,]+)*)?\\s*$`);

/** Comma-separated `host:port` (a hostname, an IPv4 address or a bracketed IPv6 address). */
const CLUSTER_NODE = String.raw`(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}`;
const CLUSTER_NODE_LIST = new RegExp(`^\\s*${CLUSTER_NODE}(\\s*,\\s*${CLUSTER_NODE})*\\s*$`);

/** The seed nodes of REDIS_FANOUT_CLUSTER_NODES (validated by the schema), for ioredis' Cluster. */
export function parseClusterNodes(raw: string): { host: string; port: number }[] {
  return raw.split(',').map((entry) => {
    const trimmed = entry.trim();
    const colon = trimmed.lastIndexOf(':');
    return { host: trimmed.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(trimmed.slice(colon + 1)) };
  });
}

/** The fan-out Redis Cluster's seed nodes with SOCKET_ADAPTER=sharded; null in classic mode (REDIS_URL carries the fan-out). */
export function fanoutClusterNodes(
  env: Pick<EnvironmentVariables, 'SOCKET_ADAPTER' | 'REDIS_FANOUT_CLUSTER_NODES'>,
): { host: string; port: number }[] | null {
  return env.SOCKET_ADAPTER === 'sharded' && env.REDIS_FANOUT_CLUSTER_NODES ? parseClusterNodes(env.REDIS_FANOUT_CLUSTER_NODES) : null;
}

/** Every setting Pigeon reads from the environment, with safe local defaults. */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  /** The application's role: not a superuser, no BYPASSRLS, not the tables' owner (row-level security applies). */
  @IsString()
  DATABASE_URL = DEV_DATABASE_URL;

  /** The role that owns the schema and runs migrations; unset: DATABASE_URL if set, else local `postgres` (see databaseUrls). */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  DATABASE_OWNER_URL?: string;

  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE = 20;

  @IsString()
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * Namespace of everything Pigeon keeps in Redis (keys, pub/sub channels, BullMQ queues, the Socket.IO
   * adapter), so several deployments can share one Redis without taking each other's jobs or events.
   */
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'REDIS_PREFIX must be 1-64 letters, digits, dots, dashes or underscores' })
  REDIS_PREFIX = 'pigeon';

  /**
   * How Socket.IO events cross nodes: `classic` (PUBLISH on REDIS_URL, every node hears every event)
   * or `sharded` (SPUBLISH per room on the Redis Cluster REDIS_FANOUT_CLUSTER_NODES; a node hears
   * only the rooms it has sockets in). Only the fan-out moves: everything else stays on REDIS_URL.
   */
  @IsIn(['classic', 'sharded'])
  SOCKET_ADAPTER: 'classic' | 'sharded' = 'classic';

  /** Comma-separated `host:port` seed nodes of the fan-out Redis Cluster (Redis 7+); required with SOCKET_ADAPTER=sharded. */
  @Transform(emptyToUndefined) @IsOptional()
  @Matches(CLUSTER_NODE_LIST, { message: 'REDIS_FANOUT_CLUSTER_NODES must be comma-separated host:port pairs (e.g. 10.0.0.1:6379,10.0.0.2:6379)' })
  REDIS_FANOUT_CLUSTER_NODES?: string;

  @IsString() @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET = DEV_JWT_SECRET;

  @Transform(toInt) @IsInt() @Min(10) @Max(86400)
  ACCESS_TOKEN_TTL_SECONDS = 900;

  @Transform(toInt) @IsInt() @Min(60)
  REFRESH_TOKEN_TTL_SECONDS = 30 * 86400;

  /** Comma-separated browser origins allowed for CORS and the socket handshake; `*` allows any. */
  @IsString()
  CORS_ORIGINS = 'http://localhost:3000,http://127.0.0.1:3000';

  @IsOptional() @IsString()
  METRICS_TOKEN?: string;

  @Transform(toBool) @IsBoolean()
  ALLOW_PRIVATE_TARGETS = true;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toBool) @IsBoolean()
  RUN_MIGRATIONS = true;

  @Transform(toInt) @IsInt() @Min(1) @Max(100000)
  MESSAGE_MAX_LENGTH = 4000;

  @Transform(toInt) @IsInt() @Min(1024)
  SOCKET_MAX_FRAME_BYTES = 128 * 1024;

  @Transform(toInt) @IsInt() @Min(1024)
  HTTP_MAX_BODY_BYTES = 256 * 1024;

  @Transform(toInt) @IsInt() @Min(1024)
  VOICE_CHUNK_MAX_BYTES = 64 * 1024;

  @Transform(toInt) @IsInt() @Min(1)
  VOICE_MAX_SECONDS = 600;

  @Transform(toInt) @IsInt() @Min(1024)
  VOICE_MAX_BYTES = 20 * 1024 * 1024;

  /** A live recording with no chunk for this long (or whose speaker left) is finalized from what arrived. */
  @Transform(toInt) @IsInt() @Min(500)
  VOICE_ABANDON_MS = 30_000;

  /** BullMQ lock of a voice job: a worker silent this long loses the job to another. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000)
  VOICE_JOB_LOCK_MS = 30_000;

  @Transform(toInt) @IsInt() @Min(1)
  SEND_RATE_BURST = 20;

  @Transform(toInt) @IsInt() @Min(1)
  SEND_RATE_PER_SECOND = 10;

  /** Per-user search limit: bursts of SEARCH_RATE_BURST, SEARCH_RATE_PER_SECOND on average. */
  @Transform(toInt) @IsInt() @Min(1)
  SEARCH_RATE_BURST = 30;

  @Transform(toInt) @IsInt() @Min(1)
  SEARCH_RATE_PER_SECOND = 5;

  /** Speech-to-text command run by the worker on each voice clip; unset: no transcripts. */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  TRANSCRIBE_CMD?: string;

  @Transform(toInt) @IsInt() @Min(1000)
  TRANSCRIBE_TIMEOUT_MS = 120_000;

  @Transform(toInt) @IsInt() @Min(100)
  TYPING_INTERVAL_MS = 2000;

  @Transform(toInt) @IsInt() @Min(1) @Max(5000)
  SYNC_PAGE_LIMIT = 500;

  /** Distinct channels one `sync` call may name; events it returns across all of them. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  SYNC_MAX_CHANNELS = 100;

  @Transform(toInt) @IsInt() @Min(1) @Max(50_000)
  SYNC_MAX_EVENTS = 1000;

  /** `sync` calls per user (all nodes): bursts of SYNC_RATE_BURST, SYNC_RATE_PER_SECOND on average. */
  @Transform(toInt) @IsInt() @Min(1)
  SYNC_RATE_BURST = 60;

  @Transform(toInt) @IsInt() @Min(1)
  SYNC_RATE_PER_SECOND = 20;

  /** Distinct emoji one message may carry. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  REACTIONS_PER_MESSAGE_MAX = 50;

  /** Live sockets one user may hold across every node. */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000)
  SOCKETS_PER_USER_MAX = 20;

  /**
   * Socket handshakes bootstrapping at once per process (the rest wait in line, in order): a
   * reconnect storm queues instead of starting thousands of bootstrap queries together.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000)
  CONNECT_ADMISSION_CONCURRENCY = 32;

  /** Handshakes that may wait for a slot; beyond it they are refused RATE_LIMITED with retryAfterMs. */
  @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000)
  CONNECT_ADMISSION_QUEUE = 20_000;

  /** Longest wait for a slot before a handshake is refused RATE_LIMITED with retryAfterMs. */
  @Transform(toInt) @IsInt() @Min(100) @Max(120_000)
  CONNECT_ADMISSION_WAIT_MS = 10_000;

  /** Live recordings one user may have open at once. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100)
  OPEN_RECORDINGS_PER_USER_MAX = 2;

  /** Push-to-talk: longest a holder keeps the floor before it is revoked. */
  @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000)
  FLOOR_MAX_TALK_MS = 60_000;

  /** Push-to-talk: a holder recording with no chunk for this long loses the floor (end of media). */
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000)
  FLOOR_END_OF_MEDIA_MS = 2000;

  /** Push-to-talk: the holder's node renews the floor's lease; a dead node's holder loses it within this. */
  @Transform(toInt) @IsInt() @Min(300) @Max(600_000)
  FLOOR_LEASE_MS = 10_000;

  /** Push-to-talk: how often the nodes (one at a time, by a Redis lock) revoke expired floors. */
  @Transform(toInt) @IsInt() @Min(20) @Max(10_000)
  FLOOR_SWEEP_INTERVAL_MS = 250;

  /** Listening progress: at most one write per listener and message per interval (the last one kept). */
  @Transform(toInt) @IsInt() @Min(0) @Max(600_000)
  PROGRESS_WRITE_INTERVAL_MS = 5000;

  /** Live voice chunk bytes per user per second (all nodes). */
  @Transform(toInt) @IsInt() @Min(1024)
  VOICE_CHUNK_BYTES_PER_SECOND = 1024 * 1024;

  /** Failed logins per (email, source address) in LOGIN_FAILURE_WINDOW_SECONDS before that pair is refused. */
  @Transform(toInt) @IsInt() @Min(1)
  LOGIN_FAILURES_MAX = 5;

  @Transform(toInt) @IsInt() @Min(1)
  LOGIN_FAILURE_WINDOW_SECONDS = 900;

  /** Registrations and refreshes per source address per minute. */
  @Transform(toInt) @IsInt() @Min(1)
  AUTH_RATE_PER_MINUTE = 60;

  /** Express `trust proxy`: unset trusts no proxy (X-Forwarded-For is ignored); e.g. `1` behind one proxy, or `loopback`. */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  TRUST_PROXY?: string;

  /** Life of a signed audio URL (`voice.url`). */
  @Transform(toInt) @IsInt() @Min(10) @Max(86400)
  AUDIO_URL_TTL_SECONDS = 600;

  /** Key of signed audio URLs; unset, one is derived from JWT_SECRET (HKDF), so it never equals it. */
  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(32, { message: 'AUDIO_URL_SECRET must be at least 32 characters' })
  AUDIO_URL_SECRET?: string;

  /** Swagger UI at /docs and the OpenAPI JSON at /docs-json. */
  @Transform(toBool) @IsBoolean()
  SWAGGER_ENABLED = true;

  @IsString()
  VOICE_STORAGE_DIR = './data/voice';

  /** Where voice files live: `local` (VOICE_STORAGE_DIR, a disk shared by every node) or `s3` (one bucket). */
  @IsIn(['local', 's3'])
  STORAGE_DRIVER: 'local' | 's3' = 'local';

  /** S3-compatible endpoint (MinIO, Ceph...); unset with STORAGE_DRIVER=s3 means AWS S3. */
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'S3_ENDPOINT must be an http(s) URL' })
  S3_ENDPOINT?: string;

  @IsString()
  S3_REGION = 'us-east-1';

  /** Required with STORAGE_DRIVER=s3. */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  S3_BUCKET?: string;

  /** Unset: the AWS SDK's default chain (environment, profile, instance or task role). Set both or neither. */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  S3_ACCESS_KEY_ID?: string;

  @Transform(emptyToUndefined) @IsOptional() @IsString()
  S3_SECRET_ACCESS_KEY?: string;

  /** Path-style addressing (`endpoint/bucket/key`): MinIO and most self-hosted servers need it. */
  @Transform(toBool) @IsBoolean()
  S3_FORCE_PATH_STYLE = false;

  /**
   * With STORAGE_DRIVER=s3, a signed audio URL answers 302 to a short-lived presigned bucket URL after the
   * member check, so the bytes do not pass through the API (the bucket must be reachable by clients).
   */
  @Transform(toBool) @IsBoolean()
  S3_AUDIO_REDIRECT = false;

  /** Message writes a process runs at once; sends that arrive meanwhile share the next one. */
  @Transform(toInt) @IsInt() @Min(1) @Max(32)
  MESSAGE_WRITES_IN_FLIGHT = 1;

  /** First retry delay of a webhook delivery; each retry doubles it (with jitter), capped at 1 h. */
  @Transform(toInt) @IsInt() @Min(1)
  WEBHOOK_BACKOFF_BASE_MS = 1000;

  /** Delivery attempts in all, the first included; tests lower it for speed. */
  @Transform(toInt) @IsInt() @Min(1) @Max(50)
  WEBHOOK_MAX_ATTEMPTS = 8;

  @Transform(toInt) @IsInt() @Min(100)
  WEBHOOK_TIMEOUT_MS = 10_000;

  /**
   * VAPID key pair (base64url, as `npx web-push generate-vapid-keys` prints). Unset outside production:
   * a pair is generated once and shared through Redis. Unset in production: push is disabled.
   */
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^[A-Za-z0-9_-]{87}$/, { message: 'VAPID_PUBLIC_KEY must be a base64url P-256 public key (87 characters)' })
  VAPID_PUBLIC_KEY?: string;

  @Transform(emptyToUndefined) @IsOptional() @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'VAPID_PRIVATE_KEY must be a base64url P-256 private key (43 characters)' })
  VAPID_PRIVATE_KEY?: string;

  /** The VAPID `sub` claim: a contact the push services can reach about this server. */
  @Matches(/^(mailto:\S+@\S+|https:\/\/\S+)$/, { message: 'VAPID_SUBJECT must be a mailto: or https: URL' })
  VAPID_SUBJECT = 'mailto:ops@pigeon.local';

  /** First retry delay of a push send; each retry doubles it (with jitter). */
  @Transform(toInt) @IsInt() @Min(1)
  PUSH_BACKOFF_BASE_MS = 2000;

  /** Attempts of one push job in all, the first included. */
  @Transform(toInt) @IsInt() @Min(1) @Max(20)
  PUSH_MAX_ATTEMPTS = 5;

  /** How long a push service keeps an undelivered notification (the `TTL` header). */
  @Transform(toInt) @IsInt() @Min(0) @Max(28 * 86400)
  PUSH_TTL_SECONDS = 86400;

  // Huddles (WebRTC): ICE servers handed out by `huddle:join`, and the mesh's limits.
  /** Comma-separated STUN URLs (`stun:host:3478`) given to every participant; empty: none. */
  @Matches(ICE_URL_LIST('stun'), { message: 'STUN_URLS must be comma-separated stun: or stuns: URLs' })
  STUN_URLS = '';

  /** Comma-separated TURN URLs (`turn:host:3478?transport=udp`, `turns:host:5349`); needs TURN_SECRET. */
  @Matches(ICE_URL_LIST('turn'), { message: 'TURN_URLS must be comma-separated turn: or turns: URLs' })
  TURN_URLS = '';

  /** coturn's `static-auth-secret` (use-auth-secret): TURN passwords are HMAC-SHA1 of the username under it. */
  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(16, { message: 'TURN_SECRET must be at least 16 characters' })
  TURN_SECRET?: string;

  /** Life of a TURN credential. */
  @Transform(toInt) @IsInt() @Min(60) @Max(86400)
  TURN_TTL_SECONDS = 3600;

  /** Sockets in one channel's huddle (a mesh: every participant sends to every other). */
  @Transform(toInt) @IsInt() @Min(2) @Max(50)
  HUDDLE_MAX_PARTICIPANTS = 8;

  /** A participant whose node stops renewing its lease for this long is dropped (a dead node). */
  @Transform(toInt) @IsInt() @Min(1000) @Max(300_000)
  HUDDLE_LEASE_MS = 15_000;

  /** Signals (offer, answer, candidate), joins, mute and speaking updates per socket: bursts of BURST, RATE per second on average. */
  @Transform(toInt) @IsInt() @Min(1)
  HUDDLE_SIGNAL_BURST = 200;

  @Transform(toInt) @IsInt() @Min(1)
  HUDDLE_SIGNAL_RATE_PER_SECOND = 50;
  /** Run the outbox relay (webhook deliveries, push and voice jobs of committed changes) in this process. */
  @Transform(toBool) @IsBoolean()
  OUTBOX_RELAY = true;

  /** How often the relay looks for due rows besides the wake-up after each local commit. */
  @Transform(toInt) @IsInt() @Min(10) @Max(60_000)
  OUTBOX_POLL_MS = 1000;

  /** How long a claimed row stays another relay's; a relay that died holding rows gives them back after it. */
  @Transform(toInt) @IsInt() @Min(1000)
  OUTBOX_LEASE_MS = 30_000;

  /** How often the sweeper looks for deliveries left `pending` and voices left `processing` without a job. */
  @Transform(toInt) @IsInt() @Min(100)
  OUTBOX_SWEEP_MS = 60_000;

  /** A pending delivery or processing voice untouched this long has its BullMQ job checked (re-queued if lost). */
  @Transform(toInt) @IsInt() @Min(100)
  OUTBOX_STUCK_AFTER_MS = 120_000;

  /** ffmpeg the worker runs; unset: /usr/bin/ffmpeg if present, else the bundled npm build (src/voice/ffmpeg-binary.ts). */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  FFMPEG_PATH?: string;

  /** The worker's HTTP port for /metrics and /health/*; 0 picks a free one. Listens on HOST. */
  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  WORKER_PORT = 3001;

  /**
   * On SIGTERM/SIGINT a process drains (sockets told to reconnect elsewhere, writes and jobs in flight
   * finished) and exits within this; what is still running then is cut off (jobs go back to their queue).
   */
  @Transform(toInt) @IsInt() @Min(1000) @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 25_000;
}

export function validateEnv(raw: Record<string, unknown>): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    // The raw value as set (a number that failed to parse would otherwise show as null).
    const lines = errors.map((e) => `  ${e.property}=${JSON.stringify(raw[e.property] ?? e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  if (env.JWT_SECRET === DEV_JWT_SECRET) {
    if (env.NODE_ENV === 'production') {
      throw new Error('Invalid configuration:\n  JWT_SECRET is required when NODE_ENV=production');
    }
    if (!warnedDevSecret) configWarnings.push('JWT_SECRET is not set: using the development default. Never run this in production.');
    warnedDevSecret = true;
  }
  // Private webhook/push targets only where someone said this is not production: NODE_ENV set to
  // development or test explicitly (an unset NODE_ENV may well be a forgotten production setting).
  if (raw.ALLOW_PRIVATE_TARGETS === undefined || raw.ALLOW_PRIVATE_TARGETS === '') {
    env.ALLOW_PRIVATE_TARGETS = raw.NODE_ENV === 'development' || raw.NODE_ENV === 'test';
  }
  if (env.TURN_URLS.trim() !== '' && !env.TURN_SECRET) {
    throw new Error('Invalid configuration:\n  TURN_URLS needs TURN_SECRET (the coturn static-auth-secret)');
  }
  if (env.STORAGE_DRIVER === 's3' && !env.S3_BUCKET) {
    throw new Error('Invalid configuration:\n  S3_BUCKET is required when STORAGE_DRIVER=s3');
  }
  if (!env.S3_ACCESS_KEY_ID !== !env.S3_SECRET_ACCESS_KEY) {
    throw new Error('Invalid configuration:\n  S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together');
  }
  env.DATABASE_OWNER_URL = databaseUrls({ DATABASE_URL: raw.DATABASE_URL as string | undefined, DATABASE_OWNER_URL: env.DATABASE_OWNER_URL }).owner;
  if (env.SOCKET_ADAPTER === 'sharded') {
    if (!env.REDIS_FANOUT_CLUSTER_NODES) {
      throw new Error('Invalid configuration:\n  REDIS_FANOUT_CLUSTER_NODES is required when SOCKET_ADAPTER=sharded');
    }
    const badPort = parseClusterNodes(env.REDIS_FANOUT_CLUSTER_NODES).find((node) => node.port < 1 || node.port > 65535);
    if (badPort) throw new Error(`Invalid configuration:\n  REDIS_FANOUT_CLUSTER_NODES: port ${badPort.port} of ${badPort.host} is not 1-65535`);
  }
  if (!env.VAPID_PUBLIC_KEY !== !env.VAPID_PRIVATE_KEY) {
    throw new Error('Invalid configuration:\n  VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together');
  }
  return env;
}
