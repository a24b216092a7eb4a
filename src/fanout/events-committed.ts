import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { discoverProviders } from '../common/discovery';
import type { EventEnvelope } from '../messages/message.view';

/**
 * A side effect of committed channel events (webhook deliveries, push, voice file removal). It runs
 * after the events were emitted to their rooms and the waiting acks were written, so it never slows
 * the live path. It gets every committed batch once per process, whichever path wrote it.
 */
export interface OnEventsCommitted {
  onEventsCommitted(events: readonly EventEnvelope[]): void;
}

/**
 * Marks a provider as an {@link OnEventsCommitted} handler: `@EventsCommittedHandler()` on the class
 * is the whole registration (found through DI discovery, see EventsCommittedBus).
 */
export const EventsCommittedHandler = DiscoveryService.createDecorator<void>();

/** Hands committed events to every {@link OnEventsCommitted} provider of this process. */
@Injectable()
export class EventsCommittedBus {
  private readonly logger = new Logger(EventsCommittedBus.name);
  private handlers: OnEventsCommitted[] | null = null;

  constructor(private readonly discovery: DiscoveryService) {}

  dispatch(events: readonly EventEnvelope[]): void {
    if (events.length === 0) return;
    this.handlers ??= discoverProviders<OnEventsCommitted>(this.discovery, EventsCommittedHandler);
    for (const handler of this.handlers) {
      try {
        handler.onEventsCommitted(events);
      } catch (error) {
        // One handler's bug must not keep the others from their events.
        this.logger.error({ err: error }, `${handler.constructor.name} failed on committed events`);
      }
    }
  }
}
