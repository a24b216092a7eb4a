import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppException } from '../../common/app.exception';
import { wellFormed } from '../../common/pg-json';
import type { SqlParams } from '../../common/sql-params';
import { ChannelHead, ChannelLog, GuardedWrite } from '../channel-log';
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

const keyOf = (p: PendingSend) => sendKey(p.input.channelId, p.authorId, p.input.clientMsgId);

/** The batch's sends by key, first copy of each key only; every channel must be locked. */
function firstsByKey(batch: readonly PendingSend[], heads: ReadonlyMap<string, ChannelHead>): Map<string, PendingSend> {
  const firstByKey = new Map<string, PendingSend>();
  for (const pending of batch) {
    if (!heads.has(pending.input.channelId)) throw AppException.notFound('Channel');
    if (!firstByKey.has(keyOf(pending))) firstByKey.set(keyOf(pending), pending);
  }
  return firstByKey;
}

/** New message rows, each with the next seq of its channel's head. */
function newRows(fresh: readonly PendingSend[], heads: ReadonlyMap<string, ChannelHead>): NewMessage[] {
  return fresh.map((p) => {
    const head = heads.get(p.input.channelId)!;
    return {
      id: randomUUID(),
      workspaceId: head.workspaceId,
      channelId: p.input.channelId,
      topicId: p.input.topicId ?? null,
      seq: head.next(),
      authorId: p.authorId,
      clientMsgId: p.input.clientMsgId,
      kind: p.input.kind ?? 'text',
      // As the column will store it, so the ack and the event built before the insert say the same.
      body: wellFormed(p.input.body),
      replyToId: p.input.replyToId ?? null,
    };
  });
}

/** Each send's answer: the message of its key; created only for the first copy of a key written now. */
function results(batch: readonly PendingSend[], views: ReadonlyMap<string, MessageView>, firstByKey: ReadonlyMap<string, PendingSend>, fresh: ReadonlySet<string>): SendResult[] {
  return batch.map((pending) => {
    const key = keyOf(pending);
    return { message: views.get(key)!, created: fresh.has(key) && firstByKey.get(key) === pending };
  });
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

  /** Results in the order of `batch`. Fails as a whole (nothing is written) if any send fails. */
  async commit(batch: readonly PendingSend[]): Promise<SendResult[]> {
    // One transaction serves several callers: it runs as all of them (their workspaces, for row-level
    // security), each already checked; not as whoever's send happened to start the write.
    const authors = batch.map((p) => p.authorId);
    return runAsUser(authors, async () => {
      const written = batch.some((p) => p.input.onCreated)
        ? await this.log.transaction((manager) => this.write(manager, batch, false)).catch((error: unknown) => {
            if (error instanceof KeysAlreadyStored) return undefined;
            throw error;
          })
        : await this.log.writeInOneStatement(batch.map((p) => p.input.channelId), (heads, params) => this.plan(heads, params, batch));
      return written ?? this.log.transaction((manager) => this.write(manager, batch, true));
    });
  }

  /**
   * The common case, sends with no in-transaction hook and keys taken to be new: the message rows
   * and their events are known before the insert (ids made here, `created_at` the transaction's
   * now()), so the insert joins the log's one statement.
   */
  private plan(heads: ReadonlyMap<string, ChannelHead>, params: SqlParams, batch: readonly PendingSend[]): { write: GuardedWrite; result: SendResult[] } {
    const firstByKey = firstsByKey(batch, heads);
    const fresh = [...firstByKey.values()];
    const rows = newRows(fresh, heads);
    const at = heads.get(rows[0].channelId)!.at;
    const views = new Map<string, MessageView>();
    for (const row of rows) {
      const view = toMessageView({
        id: row.id,
        workspace_id: row.workspaceId,
        channel_id: row.channelId,
        topic_id: row.topicId,
        seq: row.seq,
        author_id: row.authorId,
        client_msg_id: row.clientMsgId,
        kind: row.kind,
        body: row.body,
        reply_to_id: row.replyToId,
        created_at: at,
        edited_at: null,
        deleted_at: null,
      });
      views.set(sendKey(row.channelId, row.authorId, row.clientMsgId), view);
      heads.get(row.channelId)!.record(view.seq, 'message.created', view);
    }
    return {
      write: { ctes: this.messages.insertManyCtes(params, rows, at), counted: 'inserted', rows: rows.length },
      result: results(batch, views, firstByKey, new Set(firstByKey.keys())),
    };
  }

  private async write(manager: EntityManager, batch: readonly PendingSend[], lookUpKeys: boolean): Promise<SendResult[]> {
    const heads = await this.log.lock(manager, batch.map((p) => p.input.channelId));
    const firstByKey = firstsByKey(batch, heads);
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
      const rows = newRows(fresh, heads);
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
    return results(batch, views, firstByKey, new Set(fresh.map(keyOf)));
  }
}
