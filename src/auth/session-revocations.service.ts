import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { DiscoveryService } from '@nestjs/core';
import { discoverProviders } from '../common/discovery';
import { AppConfigService } from '../config/app-config.service';
import { REDIS, REDIS_SUBSCRIBER, redisChannel } from '../redis/redis.module';


const KEY_PREFIX = 'session:revoked:';

/** Told on every node about each newly revoked session (after it is recorded locally). */
export interface OnSessionRevoked {
  onSessionRevoked(sessionId: string): void;
}

/** Marks a provider as an {@link OnSessionRevoked} listener (found through DI discovery). */
export const SessionRevokedHandler = DiscoveryService.createDecorator<void>();

/**
 * Sessions (refresh-token families) that were logged out or revoked for reuse. An access token names
 * its session (`sid`), so it stops working at once instead of living out its 15 minutes. Each node
 * keeps the set in memory (no Redis round trip per request), filled from Redis keys that live as long
 * as an access token could, and kept current by pub/sub; `@SessionRevokedHandler()` providers (the
 * socket gateway) disconnect that session's sockets.
 */
@Injectable()
export class SessionRevocations implements OnModuleInit {
  private readonly logger = new Logger(SessionRevocations.name);
  private readonly revoked = new Map<string, number>();
  private listeners: OnSessionRevoked[] | null = null;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly config: AppConfigService,
    private readonly discovery: DiscoveryService,
  ) {
    this.channel = redisChannel(config.get('REDIS_PREFIX'), 'session-revoked');
  }

  private readonly channel: string;

  async onModuleInit(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
    this.subscriber.on('message', (channel: string, sessionId: string) => {
      if (channel === this.channel) this.apply(sessionId);
    });
    // Revocations published while this node was cut off from Redis are read back from their keys.
    this.subscriber.on('ready', () => void this.load());
    await this.load();
  }

  isRevoked(sessionId: string | undefined): boolean {
    if (!sessionId) return false;
    const until = this.revoked.get(sessionId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.revoked.delete(sessionId);
    return false;
  }

  async revoke(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const ttlSeconds = this.config.get('ACCESS_TOKEN_TTL_SECONDS') + 60;
    const pipeline = this.redis.pipeline();
    for (const id of sessionIds) pipeline.set(`${KEY_PREFIX}${id}`, '1', 'EX', ttlSeconds).publish(this.channel, id);
    await pipeline.exec();
    for (const id of sessionIds) this.apply(id);
  }

  private apply(sessionId: string): void {
    const known = this.revoked.has(sessionId);
    this.revoked.set(sessionId, Date.now() + (this.config.get('ACCESS_TOKEN_TTL_SECONDS') + 60) * 1000);
    if (known) return;
    this.listeners ??= discoverProviders<OnSessionRevoked>(this.discovery, SessionRevokedHandler);
    for (const listener of this.listeners) {
      try {
        listener.onSessionRevoked(sessionId);
      } catch (error) {
        this.logger.warn(`Session revocation listener failed: ${String(error)}`);
      }
    }
  }

  private async load(): Promise<void> {
    try {
      let cursor = '0';
      do {
        // SCAN patterns and results carry the whole key: ioredis' keyPrefix is not applied to them.
        const fullPrefix = `${this.config.get('REDIS_PREFIX')}:${KEY_PREFIX}`;
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${fullPrefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) this.apply(key.slice(fullPrefix.length));
      } while (cursor !== '0');
    } catch (error) {
      this.logger.warn(`Could not load revoked sessions: ${String(error)}`);
    }
  }
}
