import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ChannelLogTxHook, ChannelLogTxHookProvider } from '../messages/channel-log.hooks';
import type { EventEnvelope } from '../messages/message.view';
import { committedEventsCtes, recordCommittedEvents, recordVoiceTranscode, VoiceJobIntent } from './outbox.repository';
import type { SqlCtes, SqlParams } from '../common/sql-params';
import { OutboxRelay } from './outbox.relay';
import { PushDispatcher } from '../notifications/push-dispatcher.service';

/**
 * The write side of the outbox, for injection. Each `record*` runs in the caller's transaction:
 * the side effect commits with the change or not at all. The relay does the rest after commit.
 * As ChannelLog's in-transaction hook it records every channel write's events (webhooks, push).
 */
@Injectable()
@ChannelLogTxHookProvider()
export class OutboxService implements ChannelLogTxHook {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
    private readonly push: PushDispatcher,
  ) {}

  /** Webhook deliveries and pushes of the channel events this transaction is about to commit. */
  async inTransaction(manager: EntityManager, events: readonly EventEnvelope[]): Promise<void> {
    await recordCommittedEvents(manager, events, { pushEnabled: await this.push.enabled() });
  }

  async inStatement(params: SqlParams, events: readonly EventEnvelope[]): Promise<SqlCtes | null> {
    return committedEventsCtes(params, events, { pushEnabled: await this.push.enabled() });
  }

  recordVoiceJob(manager: EntityManager, intent: VoiceJobIntent): Promise<void> {
    return recordVoiceTranscode(manager, intent);
  }

  /** A new intent outside any change (a client retry of an upload): its own statement, then a wake-up. */
  async requeueVoice(intent: VoiceJobIntent): Promise<void> {
    await recordVoiceTranscode(this.dataSource.manager, intent);
    this.relay.wake();
  }
}
