import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type Redis from 'ioredis';
import { discoverProviders } from '../common/discovery';
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

/**
 * What the realtime layer does when membership changes (room leave/join). API processes provide
 * one (marked `@MembershipRoomsProvider()`); workers have no sockets and none.
 */
export interface MembershipRooms {
  /** This node's sockets follow the change. */
  apply(change: MembershipChange): Promise<void>;
  /** Resolves once every other API node has applied the change (MembershipBus.apply there). */
  broadcastAndWait(change: MembershipChange): Promise<void>;
}

export const MembershipRoomsProvider = DiscoveryService.createDecorator<void>();

/**
 * Membership changes reach every process's access cache and every node's socket rooms before the
 * change's REST or socket call answers (PROTOCOL guarantee 6). One path: every process, for every
 * change, runs `apply` (cache, then rooms). API nodes hear of other nodes' changes through
 * `broadcastAndWait` (acknowledged, so the caller can wait); processes without sockets (workers)
 * through a Redis channel.
 */
@Injectable()
export class MembershipBus implements OnModuleInit {
  private readonly logger = new Logger(MembershipBus.name);
  private readonly channel: string;
  private discovered: MembershipRooms | null | undefined;

  constructor(
    private readonly access: AccessService,
    private readonly discovery: DiscoveryService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    config: AppConfigService,
  ) {
    this.channel = redisChannel(config.get('REDIS_PREFIX'), 'membership');
  }

  async onModuleInit(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
    // Changes published while this process was cut off from Redis were missed: start the cache afresh.
    this.subscriber.on('ready', () => this.access.invalidateAll());
    this.subscriber.on('message', (channel: string, raw: string) => {
      // API nodes get every change acknowledged through their rooms; this copy is for the others.
      if (channel !== this.channel || this.rooms()) return;
      try {
        void this.apply(JSON.parse(raw) as MembershipChange);
      } catch (error) {
        this.logger.warn(`Bad membership message: ${String(error)}`);
      }
    });
  }

  /** A change made here: applied here, then on every other process before this resolves. */
  async changed(change: MembershipChange): Promise<void> {
    this.access.invalidate(change);
    const rooms = this.rooms();
    await Promise.all([
      rooms?.apply(change),
      this.redis.publish(this.channel, JSON.stringify(change)),
      rooms?.broadcastAndWait(change),
    ]);
  }

  /** The one way a change takes effect in a process, whoever made it. */
  async apply(change: MembershipChange): Promise<void> {
    this.access.invalidate(change);
    await this.rooms()?.apply(change);
  }

  private rooms(): MembershipRooms | null {
    if (this.discovered === undefined) {
      this.discovered = discoverProviders<MembershipRooms>(this.discovery, MembershipRoomsProvider)[0] ?? null;
    }
    return this.discovered;
  }
}
