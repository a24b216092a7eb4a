import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { FanoutService, workspaceRoom } from '../fanout/fanout.service';
import type { PresenceStatus } from '../realtime/dto/realtime.dto';
import { REDIS } from '../redis/redis.module';

export type EffectiveStatus = PresenceStatus | 'offline';

const HEARTBEAT_MS = 20_000;
/** A killed node's sockets stop heartbeating; their users read offline after this. */
const TTL_MS = 60_000;
const FLUSH_MS = 1_000;
/** Users per heartbeat pipeline (the next chunk waits for the answers of this one). */
const REFRESH_CHUNK_USERS = 100;

interface LocalUser {
  sockets: Set<string>;
  workspaces: Set<string>;
}

/**
 * Presence across nodes in Redis. `presence:sockets:<uid>` is a sorted set of live socket ids
 * scored by expiry; `presence:<uid>` holds the effective status with a TTL, refreshed by each
 * node's heartbeat. `presence` events are batched per workspace, one per second at most per node.
 */
@Injectable()
export class PresenceService implements OnModuleDestroy {
  private readonly local = new Map<string, LocalUser>();
  private readonly pending = new Map<string, Map<string, EffectiveStatus>>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly flusher: NodeJS.Timeout;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly fanout: FanoutService,
  ) {
    this.heartbeat = setInterval(() => void this.refresh().catch(() => undefined), HEARTBEAT_MS);
    this.flusher = setInterval(() => this.flush(), FLUSH_MS);
    this.heartbeat.unref();
    this.flusher.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.flusher);
  }

  /** Live sockets of a user across every node (entries whose expiry has not passed). */
  async liveSocketCount(userId: string): Promise<number> {
    return this.redis.zcount(`presence:sockets:${userId}`, `(${Date.now()}`, '+inf');
  }

  async connected(userId: string, socketId: string, workspaceIds: string[]): Promise<void> {
    const user = this.local.get(userId) ?? { sockets: new Set(), workspaces: new Set() };
    user.sockets.add(socketId);
    workspaceIds.forEach((w) => user.workspaces.add(w));
    this.local.set(userId, user);
    const chosen = (await this.redis.get(`presence:choice:${userId}`)) as PresenceStatus | null;
    const status = chosen ?? 'online';
    const previous = await this.redis
      .multi()
      .zadd(`presence:sockets:${userId}`, Date.now() + TTL_MS, socketId)
      .pexpire(`presence:sockets:${userId}`, TTL_MS)
      .set(`presence:${userId}`, status, 'PX', TTL_MS, 'GET')
      .exec();
    const before = previous?.[2]?.[1] as string | null | undefined;
    if (before !== status) this.announce(userId, user.workspaces, status);
  }

  async disconnected(userId: string, socketId: string): Promise<void> {
    const user = this.local.get(userId);
    user?.sockets.delete(socketId);
    if (user && user.sockets.size === 0) this.local.delete(userId);
    const key = `presence:sockets:${userId}`;
    const result = await this.redis.multi().zrem(key, socketId).zremrangebyscore(key, 0, Date.now()).zcard(key).exec();
    const remaining = Number(result?.[2]?.[1] ?? 0);
    if (remaining === 0) {
      await this.redis.del(`presence:${userId}`);
      if (user) this.announce(userId, user.workspaces, 'offline');
    }
  }

  async set(userId: string, status: PresenceStatus): Promise<void> {
    // The choice outlives a connection, like Slack's "away" toggle.
    await this.redis.multi().set(`presence:choice:${userId}`, status).set(`presence:${userId}`, status, 'PX', TTL_MS).exec();
    const user = this.local.get(userId);
    if (user) this.announce(userId, user.workspaces, status);
  }

  joinedWorkspace(userId: string, workspaceId: string): void {
    this.local.get(userId)?.workspaces.add(workspaceId);
  }

  async statuses(userIds: string[]): Promise<Map<string, EffectiveStatus>> {
    const out = new Map<string, EffectiveStatus>();
    if (userIds.length === 0) return out;
    const values = await this.redis.mget(userIds.map((id) => `presence:${id}`));
    userIds.forEach((id, i) => out.set(id, (values[i] as EffectiveStatus | null) ?? 'offline'));
    return out;
  }

  /** The users among `userIds` with at least one live socket on any node (a member scored after now). */
  async withLiveSocket(userIds: string[]): Promise<Set<string>> {
    const live = new Set<string>();
    if (userIds.length === 0) return live;
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.zcount(`presence:sockets:${id}`, `(${now}`, '+inf');
    const results = (await pipeline.exec()) ?? [];
    userIds.forEach((id, i) => {
      const [error, count] = results[i] ?? [null, 0];
      if (error) throw error;
      if (Number(count) > 0) live.add(id);
    });
    return live;
  }

  private announce(userId: string, workspaces: Set<string>, status: EffectiveStatus): void {
    for (const workspaceId of workspaces) {
      const batch = this.pending.get(workspaceId) ?? new Map<string, EffectiveStatus>();
      batch.set(userId, status);
      this.pending.set(workspaceId, batch);
    }
  }

  private flush(): void {
    for (const [workspaceId, batch] of this.pending) {
      const users = [...batch].map(([userId, status]) => ({ userId, status }));
      this.fanout.emit(workspaceRoom(workspaceId), 'presence', { workspaceId, users });
    }
    this.pending.clear();
  }

  /**
   * Extends every local socket's presence entry, in chunks that each wait for their answers, so a
   * node's thousands of users do not hold the shared Redis connection (rate limits, fan-out) and the
   * event loop in one go.
   */
  private async refresh(): Promise<void> {
    if (this.local.size === 0) return;
    const expiry = Date.now() + TTL_MS;
    const users = [...this.local];
    for (let start = 0; start < users.length; start += REFRESH_CHUNK_USERS) {
      const pipeline = this.redis.pipeline();
      for (const [userId, user] of users.slice(start, start + REFRESH_CHUNK_USERS)) {
        for (const socketId of user.sockets) pipeline.zadd(`presence:sockets:${userId}`, expiry, socketId);
        pipeline.pexpire(`presence:sockets:${userId}`, TTL_MS);
        pipeline.pexpire(`presence:${userId}`, TTL_MS);
      }
      await pipeline.exec();
    }
  }
}
