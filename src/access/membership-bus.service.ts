import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfigService } from '../config/app-config.service';
import { REDIS, REDIS_SUBSCRIBER, redisChannel } from '../redis/redis.module';
import { AccessService } from './access.service';

export interface MembershipChange {
  workspaceId: string;
  userId?: string;
  channelId?: string;
  /** The user lost access: their sockets leave the channel (or every room of the workspace). */
  removed?: boolean;
}

/** What the realtime layer does on each node when membership changes (room leave/join). */
export interface MembershipRoomHandler {
  apply(change: MembershipChange): void;
  /** Resolves once every API node has applied the change. */
  broadcastAndWait(change: MembershipChange): Promise<void>;
}



/**
 * Membership changes reach every node's access cache and socket rooms before the change's
 * REST or socket call answers (PROTOCOL guarantee 6).
 */
@Injectable()
export class MembershipBus implements OnModuleInit {
  private readonly logger = new Logger(MembershipBus.name);
  private rooms: MembershipRoomHandler | null = null;

  constructor(
    private readonly access: AccessService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    config: AppConfigService,
  ) {
    this.channel = redisChannel(config.get('REDIS_PREFIX'), 'membership');
  }

  private readonly channel: string;

  async onModuleInit(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
    // Changes published while this node was cut off from Redis were missed: start the cache afresh.
    this.subscriber.on('ready', () => this.access.invalidateAll());
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== this.channel) return;
      try {
        this.access.invalidate(JSON.parse(raw) as MembershipChange);
      } catch (error) {
        this.logger.warn(`Bad membership message: ${String(error)}`);
      }
    });
  }

  /** The realtime gateway registers itself on API nodes; workers have no sockets. */
  attachRooms(handler: MembershipRoomHandler): void {
    this.rooms = handler;
  }

  async changed(change: MembershipChange): Promise<void> {
    this.access.invalidate(change);
    await this.redis.publish(this.channel, JSON.stringify(change));
    if (this.rooms) {
      this.rooms.apply(change);
      await this.rooms.broadcastAndWait(change);
    }
  }
}
