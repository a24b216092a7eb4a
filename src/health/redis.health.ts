import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';

/** Redis answers PING within the timeout; terminus has no ioredis indicator of its own. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async pingCheck(key: string, options: { timeout: number }): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      const pong = await Promise.race([
        this.redis.ping(),
        new Promise<string>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), options.timeout);
        }),
      ]);
      return pong === 'PONG' ? indicator.up() : indicator.down({ message: pong });
    } catch (error) {
      return indicator.down({ message: String(error) });
    } finally {
      clearTimeout(timer);
    }
  }
}
