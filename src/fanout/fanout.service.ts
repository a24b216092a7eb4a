import { AppConfigService } from '../config/app-config.service';
import { Inject, Injectable } from '@nestjs/common';
import { Emitter } from '@socket.io/redis-emitter';
import type Redis from 'ioredis';
import type { Namespace } from 'socket.io';
import type { EventEnvelope } from '../messages/message.view';
import { MetricsService } from '../metrics/metrics.service';
import { REDIS } from '../redis/redis.module';

/** The Socket.IO adapter's and emitter's channel prefix, under REDIS_PREFIX (they must agree). */
export const socketIoChannel = (prefix: string) => `${prefix}:socket.io`;

export const RT_NAMESPACE = '/rt';
export const channelRoom = (channelId: string) => `ch:${channelId}`;
export const workspaceRoom = (workspaceId: string) => `ws:${workspaceId}`;
export const userRoom = (userId: string) => `user:${userId}`;

/**
 * Sends to socket rooms on every node. API nodes emit through their own namespace (local sockets at
 * once, other nodes through the Redis adapter); a process without sockets (the worker) uses the
 * Redis emitter, which every node's adapter receives.
 */
@Injectable()
export class FanoutService {
  private namespace: Namespace | null = null;
  private emitter: Emitter | null = null;
  private readonly listeners: ((events: EventEnvelope[]) => void)[] = [];
  /** Committed events waiting for the next turn of the event loop. */
  private readonly outbox: EventEnvelope[][] = [];

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
  ) {}

  attach(namespace: Namespace): void {
    this.namespace = namespace;
  }

  /**
   * Side effects of committed events (webhooks, push) that must never slow the live path: they run
   * after the emits and the waiting acks, on a later turn of the event loop.
   */
  onCommitted(listener: (events: EventEnvelope[]) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Called after the transaction commits: one emit per event to its channel room. The emits run on
   * the next turn of the event loop, after the waiting acks are written (the contract's order:
   * ack, then the room), in one FIFO so events keep their commit order whichever path wrote them.
   */
  publishEvents(events: EventEnvelope[]): void {
    if (events.length === 0) return;
    this.outbox.push(events);
    if (this.outbox.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const batches = this.outbox.splice(0);
    for (const events of batches) {
      for (const event of events) this.emit(channelRoom(event.channelId), 'event', event);
    }
    for (const events of batches) this.listeners.forEach((listener) => listener(events));
  }

  emit(room: string | string[], event: string, payload: unknown, options: { except?: string } = {}): void {
    this.metrics.emitted(event);
    if (this.namespace) {
      let target = this.namespace.to(room);
      if (options.except) target = target.except(options.except);
      target.emit(event, payload);
      return;
    }
    this.emitter ??= new Emitter(this.redis, { key: socketIoChannel(this.config.get('REDIS_PREFIX')) }).of(RT_NAMESPACE) as unknown as Emitter;
    let target = this.emitter.to(room);
    if (options.except) target = target.except(options.except);
    target.emit(event, payload);
  }
}
