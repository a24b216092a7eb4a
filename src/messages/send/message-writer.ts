import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppException } from '../../common/app.exception';
import { ChannelLog } from '../channel-log';
import { MessageRepository, NewMessage } from '../message.repository';
import type { MessageRow } from '../message.rows';
import { MessageView, toMessageView } from '../message.view';
import { MessageViews } from '../message-views';
import { runAsUser } from '../../tenancy/tenant-context';
import { PendingSend, SendResult, sendKey } from './send.types';

/** Raised inside the transaction to roll it back: some keys of the batch were stored before. */
class KeysAlreadyStored extends Error {
  override name = 'KeysAlreadyStored';
}

/**
 * Writes sends of any number of channels in one ChannelLog transaction: the channel heads are
 * locked in id order and each new message takes the next seq of its channel's head, which records
 * its `message.created`. Keys are taken to be new; when the insert skips one, the batch is written
 * again with the stored keys looked up first (that statement's snapshot comes after the locks, so
 * it sees every committed send, from any node). A retry, or a second copy of a key in the batch,
 * answers the first message.
 */
@Injectable()
export class MessageWriter {
  constructor(
    private readonly log: ChannelLog,
    private readonly messages: MessageRepository,
    private readonly views: MessageViews,
  ) {}

  /**
   * Results in the order of `batch`. Fails as a whole (nothing is written) if any send fails. Keys are
   * taken to be new (one statement fewer per batch); if one was stored already (a retry whose ack was
   * lost), the transaction is rolled back and written again looking the stored keys up first.
   */
  async commit(batch: readonly PendingSend[]): Promise<SendResult[]> {
    // One transaction serves several callers: it runs as all of them (their workspaces, for row-level
    // security), each already checked; not as whoever's send happened to start the write.
    const authors = batch.map((p) => p.authorId);
    try {
      return await runAsUser(authors, () => this.log.transaction((manager) => this.write(manager, batch, false)));
    } catch (error) {
      if (!(error instanceof KeysAlreadyStored)) throw error;
      return runAsUser(authors, () => this.log.transaction((manager) => this.write(manager, batch, true)));
    }
  }

  private async write(manager: EntityManager, batch: readonly PendingSend[], lookUpKeys: boolean): Promise<SendResult[]> {
    const keyOf = (p: PendingSend) => sendKey(p.input.channelId, p.authorId, p.input.clientMsgId);
    const heads = await this.log.lock(manager, batch.map((p) => p.input.channelId));
    const firstByKey = new Map<string, PendingSend>();
    for (const pending of batch) {
      if (!heads.has(pending.input.channelId)) throw AppException.notFound('Channel');
      if (!firstByKey.has(keyOf(pending))) firstByKey.set(keyOf(pending), pending);
    }
    const firsts = [...firstByKey.values()];
    const stored = lookUpKeys
      ? await this.messages.findByClientKeys(
          manager,
          firsts.map((p) => ({ channelId: p.input.channelId, authorId: p.authorId, clientMsgId: p.input.clientMsgId })),
        )
      : [];
    const views = new Map<string, MessageView>();
    for (const view of await this.views.decorate(stored, manager)) views.set(sendKey(view.channelId, view.authorId, view.clientMsgId), view);

    const fresh = firsts.filter((p) => !views.has(keyOf(p)));
    if (fresh.length > 0) {
      const rows: NewMessage[] = fresh.map((p) => {
        const head = heads.get(p.input.channelId)!;
        return {
          workspaceId: head.workspaceId,
          channelId: p.input.channelId,
          topicId: p.input.topicId ?? null,
          seq: head.next(),
          authorId: p.authorId,
          clientMsgId: p.input.clientMsgId,
          kind: p.input.kind ?? 'text',
          body: p.input.body,
          replyToId: p.input.replyToId ?? null,
        };
      });
      const inserted = await this.messages.insertMany(manager, rows, heads.get(rows[0].channelId)!.at);
      // A key skipped by ON CONFLICT left its seq unused: this attempt cannot commit (the log would have a gap).
      if (inserted.length < rows.length) throw new KeysAlreadyStored();
      const byKey = new Map<string, MessageRow>(inserted.map((row) => [sendKey(row.channel_id, row.author_id, row.client_msg_id), row]));
      for (const pending of fresh) await pending.input.onCreated?.(manager, byKey.get(keyOf(pending))!);
      // Decorated after the hooks ran, so a voice message's event already carries its clip.
      const voices = await this.views.voices(inserted, manager);
      for (const row of inserted) {
        const view = toMessageView(row, [], voices.get(row.id) ?? null);
        views.set(sendKey(row.channel_id, row.author_id, row.client_msg_id), view);
        heads.get(row.channel_id)!.record(view.seq, 'message.created', view);
      }
    }
    const freshKeys = new Set(fresh.map(keyOf));
    return batch.map((pending) => {
      const key = keyOf(pending);
      return { message: views.get(key)!, created: freshKeys.has(key) && firstByKey.get(key) === pending };
    });
  }
}
