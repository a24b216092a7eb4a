import { DiscoveryService } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from './message.view';

/**
 * Work that must commit or roll back with the channel events (the transactional outbox). Called by
 * ChannelLog.transaction after the events and heads are written and before COMMIT, with every event
 * of the transaction in commit order; not called when the transaction appended nothing. Throwing
 * rolls the whole transaction back.
 */
export interface ChannelLogTxHook {
  inTransaction(manager: EntityManager, events: readonly EventEnvelope[]): Promise<void>;
}

/** Marks a provider as a {@link ChannelLogTxHook}; found through DI discovery, nothing to register. */
export const ChannelLogTxHookProvider = DiscoveryService.createDecorator<void>();
