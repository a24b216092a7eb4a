import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfigService } from '../config/app-config.service';

export const REDIS = Symbol('REDIS');
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.redis.quit(), this.subscriber.quit()]);
  }
}

/**
 * Pub/sub channel names under the deployment's REDIS_PREFIX (ioredis' keyPrefix covers keys, Lua
 * KEYS included, but not channels or SCAN patterns).
 */
export const redisChannel = (prefix: string, name: string) => `${prefix}:${name}`;

function connect(url: string, prefix: string, name: string, subscriber = false): Redis {
  // Commands wait (not fail) through short outages; callers see errors only when Redis stays away.
  if (subscriber) return new Redis(url, { connectionName: name, enableReadyCheck: false });
  // commandTimeout: a paused (not disconnected) Redis must not hang a send's ack forever.
  return new Redis(url, {
    connectionName: name,
    keyPrefix: `${prefix}:`,
    maxRetriesPerRequest: 2,
    commandTimeout: 2000,
    enableAutoPipelining: true,
  });
}

/** One command connection and one subscriber connection per process. */
@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [AppConfigService], useFactory: (c: AppConfigService) => connect(c.get('REDIS_URL'), c.get('REDIS_PREFIX'), 'pigeon') },
    {
      provide: REDIS_SUBSCRIBER,
      inject: [AppConfigService],
      useFactory: (c: AppConfigService) => connect(c.get('REDIS_URL'), c.get('REDIS_PREFIX'), 'pigeon-sub', true),
    },
    RedisLifecycle,
  ],
  exports: [REDIS, REDIS_SUBSCRIBER],
})
export class RedisModule {}
