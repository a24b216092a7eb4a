import { DiscoveryService } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import type { SqlCtes, SqlParams } from '../common/sql-params';
import type { EventEnvelope } from './message.view';

/**
 * Work that must commit or roll back with the channel events (the transactional outbox). Called by
 * ChannelLog after the events and heads are written and before COMMIT, with every event of the
 * transaction in commit order; not called when the transaction appended nothing. Throwing rolls the
 * whole transaction back.
 */
export interface ChannelLogTxHook {
  /** As a statement of its own, in `ChannelLog.transaction`. */
  inTransaction(manager: EntityManager, events: readonly EventEnvelope[]): Promise<void>;
  /** The same work as CTEs of the write's one statement (`ChannelLog.writeInOneStatement`); null: none. */
  inStatement(params: SqlParams, events: readonly EventEnvelope[]): Promise<SqlCtes | null>;
}

/** Marks a provider as a {@link ChannelLogTxHook}; found through DI discovery, nothing to register. */
export const ChannelLogTxHookProvider = DiscoveryService.createDecorator<void>();
