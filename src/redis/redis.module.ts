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

function connect(url: string, name: string, subscriber = false): Redis {
  // Commands wait (not fail) through short outages; callers see errors only when Redis stays away.
  if (subscriber) return new Redis(url, { connectionName: name, enableReadyCheck: false });
  // commandTimeout: a paused (not disconnected) Redis must not hang a send's ack forever.
  return new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, commandTimeout: 2000, enableAutoPipelining: true });
}

/** One command connection and one subscriber connection per process. */
@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [AppConfigService], useFactory: (c: AppConfigService) => connect(c.get('REDIS_URL'), 'pigeon') },
    {
      provide: REDIS_SUBSCRIBER,
      inject: [AppConfigService],
      useFactory: (c: AppConfigService) => connect(c.get('REDIS_URL'), 'pigeon-sub', true),
    },
    RedisLifecycle,
  ],
  exports: [REDIS, REDIS_SUBSCRIBER],
})
export class RedisModule {}
