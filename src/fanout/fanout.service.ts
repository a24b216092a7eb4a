import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Emitter } from '@socket.io/redis-emitter';
import type Redis from 'ioredis';
import type { Namespace } from 'socket.io';
import { discoverProviders } from '../common/discovery';
import { AppConfigService } from '../config/app-config.service';
import type { EventEnvelope } from '../messages/message.view';
import { MetricsService } from '../metrics/metrics.service';
import { REDIS } from '../redis/redis.module';
import { EventsCommittedBus } from './events-committed';
import { HeadlessShardedEmitter } from './sharded-fanout';
import { SocketNamespaceOwner, SocketNamespaceSource } from './socket-namespace';

/** The Socket.IO adapter's and emitter's channel prefix, under REDIS_PREFIX (they must agree). */
export const socketIoChannel = (prefix: string) => `${prefix}:socket.io`;

export const RT_NAMESPACE = '/rt';
export const channelRoom = (channelId: string) => `ch:${channelId}`;
export const workspaceRoom = (workspaceId: string) => `ws:${workspaceId}`;
export const userRoom = (userId: string) => `user:${userId}`;

/**
 * The emitter's view of the Redis connection. `@socket.io/redis-emitter` drops the promise of each
 * PUBLISH, so a command that fails (a paused Redis past the command timeout) would be an unhandled
 * rejection and end the worker: failures are logged here instead. A live emit lost that way is
 * caught up by `sync` (the event is in the log).
 */
export function emitterPublisher(redis: Pick<Redis, 'publish'>, onError: (error: unknown) => void): Pick<Redis, 'publish'> {
  return {
    publish: ((channel: string, message: string | Buffer) =>
      redis.publish(channel, message).catch((error: unknown) => {
        onError(error);
        return 0;
      })) as Redis['publish'],
  };
}

/** What a process without sockets emits through: the classic emitter's or the headless server's `/rt`. */
interface RoomBroadcaster {
  to(room: string | string[]): { except(socketId: string): { emit(event: string, payload: unknown): unknown }; emit(event: string, payload: unknown): unknown };
}

/**
 * Sends to socket rooms on every node. API nodes emit through their own namespace (local sockets at
 * once, other nodes through the Redis adapter); a process without sockets (the worker) uses the
 * Redis emitter (SOCKET_ADAPTER=classic) or a headless Socket.IO server with the sharded adapter
 * (sharded), which every node's adapter receives.
 */
@Injectable()
export class FanoutService implements OnApplicationShutdown {
  private readonly logger = new Logger(FanoutService.name);
  private owner: SocketNamespaceOwner | null | undefined;
  private emitter: RoomBroadcaster | null = null;
  private headless: HeadlessShardedEmitter | null = null;
  /** Committed events waiting for the next turn of the event loop. */
  private readonly pending: (readonly EventEnvelope[])[] = [];

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfigService,
    private readonly discovery: DiscoveryService,
    private readonly committed: EventsCommittedBus,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Called by ChannelLog once a transaction committed (nobody else): one emit per event to its
   * channel room. The emits run on the next turn of the event loop, after the waiting acks are
   * written (the contract's order: ack, then the room), in one FIFO so events keep their commit
   * order whichever path wrote them; then the committed-events handlers get them.
   */
  publishCommitted(events: readonly EventEnvelope[]): void {
    if (events.length === 0) return;
    this.pending.push(events);
    if (this.pending.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const batches = this.pending.splice(0);
    for (const events of batches) {
      for (const event of events) this.emit(channelRoom(event.channelId), 'event', event);
    }
    for (const events of batches) this.committed.dispatch(events);
  }

  emit(room: string | string[], event: string, payload: unknown, options: { except?: string } = {}): void {
    this.metrics.emitted(event);
    const namespace = this.namespace();
    if (namespace) {
      let target = namespace.to(room);
      if (options.except) target = target.except(options.except);
      target.emit(event, payload);
      return;
    }
    this.emitter ??= this.socketlessEmitter();
    const target = this.emitter.to(room);
    (options.except ? target.except(options.except) : target).emit(event, payload);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.headless?.close();
  }

  private socketlessEmitter(): RoomBroadcaster {
    const prefix = socketIoChannel(this.config.get('REDIS_PREFIX'));
    const failed = (error: unknown) => this.logger.warn(`Live emit through Redis failed (clients catch up with sync): ${String(error)}`);
    const clusterNodes = this.config.fanoutClusterNodes;
    if (clusterNodes) {
      this.headless = HeadlessShardedEmitter.connect(clusterNodes, prefix, RT_NAMESPACE, failed);
      return this.headless.namespace;
    }
    return new Emitter(emitterPublisher(this.redis, failed), { key: prefix }).of(RT_NAMESPACE);
  }

  private namespace(): Namespace | undefined {
    if (this.owner === undefined) {
      this.owner = discoverProviders<SocketNamespaceOwner>(this.discovery, SocketNamespaceSource)[0] ?? null;
    }
    return this.owner?.namespace;
  }
}
