import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import type { MembershipChange } from '../access/membership-bus.service';
import { AppConfigService } from '../config/app-config.service';
import { REDIS_SUBSCRIBER, redisChannel } from '../redis/redis.module';
import { HuddlesService } from './huddles.service';

/**
 * A member who loses access to a channel (or the workspace) leaves its huddle on every node. Listens to
 * MembershipBus' pub/sub channel, which reaches every node, the one that made the change included.
 * Relays check membership anyway, so this only shortens the time a removed socket stays listed.
 */
@Injectable()
export class HuddleMembershipListener implements OnModuleInit {
  private readonly logger = new Logger(HuddleMembershipListener.name);
  private readonly channel: string;

  constructor(
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly huddles: HuddlesService,
    config: AppConfigService,
  ) {
    this.channel = redisChannel(config.get('REDIS_PREFIX'), 'membership');
  }

  async onModuleInit(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== this.channel) return;
      let change: MembershipChange;
      try {
        change = JSON.parse(raw) as MembershipChange;
      } catch {
        return;
      }
      if (!change.removed) return;
      this.huddles.evict(change).catch((error: unknown) => this.logger.warn(`Huddle eviction failed: ${String(error)}`));
    });
  }
}
