import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import { REDIS } from '../redis/redis.module';

/** A window of `points` lasting `duration` seconds, shared by every node through Redis. */
function windowLimiter(redis: Redis, keyPrefix: string, points: number, duration: number): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration,
    // While Redis is unreachable each node limits on its own instead of refusing everything.
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
  });
}

/**
 * Per-user limits shared by REST and socket, across every node (state in Redis). Writes (sends,
 * edits, deletes, reactions, uploads, `voice:start`) share one window of `burst` lasting
 * burst/rate seconds: bursts of 20, 10/s on average. Refused attempts count but never lengthen the
 * window. Voice chunks are limited by bytes, `sync` calls by count, failed logins per (email, address).
 */
@Injectable()
export class RateLimitService {
  private readonly writes: RateLimiterRedis;
  private readonly syncs: RateLimiterRedis;
  private readonly chunkBytes: RateLimiterRedis;
  private readonly loginFailures: RateLimiterRedis;
  private readonly authCalls: RateLimiterRedis;

  constructor(@Inject(REDIS) redis: Redis, config: AppConfigService) {
    const burst = config.get('SEND_RATE_BURST');
    this.writes = windowLimiter(redis, 'rl:send', burst, Math.max(1, Math.round(burst / config.get('SEND_RATE_PER_SECOND'))));
    const syncBurst = config.get('SYNC_RATE_BURST');
    this.syncs = windowLimiter(redis, 'rl:sync', syncBurst, Math.max(1, Math.round(syncBurst / config.get('SYNC_RATE_PER_SECOND'))));
    // Two seconds' worth per 2 s window: a speaker's slices may bunch up after a network hiccup.
    this.chunkBytes = windowLimiter(redis, 'rl:chunk', 2 * config.get('VOICE_CHUNK_BYTES_PER_SECOND'), 2);
    this.loginFailures = windowLimiter(redis, 'rl:login', config.get('LOGIN_FAILURES_MAX'), config.get('LOGIN_FAILURE_WINDOW_SECONDS'));
    this.authCalls = windowLimiter(redis, 'rl:auth', config.get('AUTH_RATE_PER_MINUTE'), 60);
  }

  /** Any write of a user: a message, edit, delete, reaction, upload or `voice:start`. */
  consumeWrite(userId: string): Promise<void> {
    return consume(this.writes, userId, 1);
  }

  consumeSync(userId: string): Promise<void> {
    return consume(this.syncs, userId, 1);
  }

  consumeChunkBytes(userId: string, bytes: number): Promise<void> {
    return consume(this.chunkBytes, userId, bytes);
  }

  /** Register and refresh, per source address. */
  consumeAuthCall(address: string): Promise<void> {
    return consume(this.authCalls, address, 1);
  }

  /**
   * Counts a login attempt of an (email, address) pair as a failure before any password is hashed, so
   * concurrent guesses cannot all slip past the limit; a locked pair is refused. `loginSucceeded`
   * gives the point back.
   */
  beginLoginAttempt(email: string, address: string): Promise<void> {
    return consume(this.loginFailures, loginKey(email, address), 1);
  }

  async loginSucceeded(email: string, address: string): Promise<void> {
    await this.loginFailures.delete(loginKey(email, address));
  }
}

function loginKey(email: string, address: string): string {
  return `${email.trim().toLowerCase()}|${address}`;
}

async function consume(limiter: RateLimiterRedis, key: string, points: number): Promise<void> {
  try {
    await limiter.consume(key, points);
  } catch (error) {
    if (error instanceof RateLimiterRes) throw AppException.rateLimited(Math.max(1, error.msBeforeNext));
    throw error;
  }
}
