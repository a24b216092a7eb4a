import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import { REDIS } from '../redis/redis.module';

/**
 * Per-user send limit shared by REST and socket, across every node (state in Redis).
 * A window of `burst` sends lasting burst/rate seconds: bursts of 20, 10/s on average.
 * Refused attempts count but never lengthen the window.
 */
@Injectable()
export class RateLimitService {
  private readonly sends: RateLimiterRedis;

  constructor(@Inject(REDIS) redis: Redis, config: AppConfigService) {
    const burst = config.get('SEND_RATE_BURST');
    const perSecond = config.get('SEND_RATE_PER_SECOND');
    const duration = Math.max(1, Math.round(burst / perSecond));
    this.sends = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: 'rl:send',
      points: burst,
      duration,
      // While Redis is unreachable each node limits on its own instead of refusing every send.
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: 'rl:send', points: burst, duration }),
    });
  }

  async consumeSend(userId: string): Promise<void> {
    try {
      await this.sends.consume(userId, 1);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw AppException.rateLimited(Math.max(1, error.msBeforeNext));
      throw error;
    }
  }
}
