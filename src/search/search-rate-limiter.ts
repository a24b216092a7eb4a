import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import { REDIS } from '../redis/redis.module';

/** Per-user search limit across every node, shaped like the send limit (its own counters). */
@Injectable()
export class SearchRateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(@Inject(REDIS) redis: Redis, config: AppConfigService) {
    const { searchBurst, searchPerSecond } = config.limits;
    const duration = Math.max(1, Math.round(searchBurst / searchPerSecond));
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: 'rl:search',
      points: searchBurst,
      duration,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: 'rl:search', points: searchBurst, duration }),
    });
  }

  async consume(userId: string): Promise<void> {
    try {
      await this.limiter.consume(userId, 1);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw AppException.rateLimited(Math.max(1, error.msBeforeNext));
      throw error;
    }
  }
}
