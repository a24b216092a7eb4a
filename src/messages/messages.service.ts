import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AccessService, isAdminRole } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { channelRoom, FanoutService } from '../fanout/fanout.service';
import { MetricsService } from '../metrics/metrics.service';
import { AppConfigService } from '../config/app-config.service';
import type { ChannelEventType } from './channel-event.entity';
import { ChannelHead, commitChannelHead, lockChannelHead } from './channel-log';
import { redactEarlierEvents } from './event-redaction';
import type { WorkspaceRole } from '../workspaces/workspace-member.entity';
import { EventEnvelope, MessageRow, MessageView, ReactionView, toMessageView, VoiceView } from './message.view';
import { runAsUser } from '../tenancy/tenant-context';

export interface SendInput {
  channelId: string;
  clientMsgId: string;
  body: string;
  topicId?: string | null;
  replyToId?: string | null;
  kind?: 'text' | 'voice' | 'system';
  /** Runs in the message's own transaction when it is created (not on a retry), e.g. to add its voice clip. */
  onCreated?: (manager: EntityManager, message: MessageRow) => Promise<void>;
}

export interface SendResult {
  message: MessageView;
  /** False when the clientMsgId was already used by this author in this channel. */
  created: boolean;
}

interface PendingSend {
  authorId: string;
  workspaceId: string;
  input: SendInput;
  resolve: (result: SendResult) => void;
  reject: (error: unknown) => void;
}

/** Extra data other modules (voice) attach to a message view. */
export interface MessageDecorator {
  /** Reads through `manager` when given, so a view built inside a transaction sees its writes. */
  voiceFor(messageIds: string[], manager?: EntityManager): Promise<Map<string, VoiceView>>;
}

const MAX_BATCH = 200;

interface PgClient {
  query<R>(config: string | { name: string; text: string; values: unknown[] }, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** The text-send batch statement (see commitTextBatch). */
const SEND_TEXT_BATCH_SQL = `
WITH input AS (
  SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::uuid[]) WITH ORDINALITY
    AS u(channel_id, author_id, client_msg_id, topic_id, kind, body, reply_to_id, ord)
), locked AS (
  SELECT id FROM channels WHERE id IN (SELECT channel_id FROM input) ORDER BY id FOR UPDATE
), existing AS (
  SELECT m.* FROM messages m
    JOIN input i ON m.author_id = i.author_id AND m.channel_id = i.channel_id AND m.client_msg_id = i.client_msg_id
), fresh AS (
  SELECT i.*, row_number() OVER (PARTITION BY i.channel_id ORDER BY i.ord) AS rn FROM input i
   WHERE NOT EXISTS (SELECT 1 FROM existing e
                      WHERE e.author_id = i.author_id AND e.channel_id = i.channel_id AND e.client_msg_id = i.client_msg_id)
), counts AS (
  SELECT channel_id, count(*) AS n FROM fresh GROUP BY channel_id
), bumped AS (
  UPDATE channels c SET head_seq = c.head_seq + k.n
    FROM (SELECT l.id, n FROM locked l JOIN counts ON counts.channel_id = l.id) k
   WHERE c.id = k.id
  RETURNING c.id, c.workspace_id, c.head_seq - k.n AS base
), inserted AS (
  INSERT INTO messages (workspace_id, channel_id, topic_id, seq, author_id, client_msg_id, kind, body, reply_to_id, created_at)
  SELECT b.workspace_id, f.channel_id, f.topic_id, b.base + f.rn, f.author_id, f.client_msg_id, f.kind, f.body, f.reply_to_id, $1::timestamptz
    FROM fresh f JOIN bumped b ON b.id = f.channel_id
  RETURNING *
), logged AS (
  INSERT INTO channel_events (channel_id, seq, workspace_id, type, data, at)
  SELECT m.channel_id, m.seq, m.workspace_id, 'message.created', jsonb_build_object(
           'id', m.id, 'workspaceId', m.workspace_id, 'channelId', m.channel_id, 'topicId', m.topic_id,
           'seq', m.seq, 'authorId', m.author_id, 'clientMsgId', m.client_msg_id, 'kind', m.kind,
           'body', m.body, 'replyToId', m.reply_to_id, 'createdAt', $9::text, 'editedAt', NULL,
           'deletedAt', NULL, 'reactions', '[]'::jsonb, 'voice', NULL), $1::timestamptz
    FROM inserted m
), touched AS (
  UPDATE topics SET last_activity_at = $1::timestamptz WHERE id IN (SELECT topic_id FROM fresh WHERE topic_id IS NOT NULL)
)
SELECT true AS is_new, inserted.* FROM inserted
UNION ALL
SELECT false AS is_new, existing.* FROM existing`;

/**
 * Every durable change of a channel goes through here: it appends the channel event in the same
 * transaction and fans it out after commit. Sends to one channel that queue up while a
 * transaction is in flight share the next one (group commit), so a busy channel costs one
 * transaction per batch, not per message.
 */
@Injectable()
export class MessagesService {
  private readonly logger = new Logger(MessagesService.name);
  /** Per channel, the text sends waiting for a write, in arrival order. */
  private readonly queues = new Map<string, PendingSend[]>();
  /** Channels with a write in flight on this node. */
  private readonly busy = new Set<string>();
  private inFlight = 0;
  /**
   * MESSAGE_WRITES_IN_FLIGHT, default 1: on a small machine one write at a time batches best (the
   * throughput benchmark: 563 acked sends/s with 1, 306/s with 4); each write holds one connection.
   */
  private readonly maxInFlight: number;
  private decorator: MessageDecorator | null = null;
  private readonly maxReactions: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly fanout: FanoutService,
    private readonly metrics: MetricsService,
    private readonly rateLimit: RateLimitService,
    config: AppConfigService,
  ) {
    this.maxInFlight = config.get('MESSAGE_WRITES_IN_FLIGHT');
    this.maxReactions = config.get('REACTIONS_PER_MESSAGE_MAX');
  }

  setDecorator(decorator: MessageDecorator): void {
    this.decorator = decorator;
  }

  // ---------------------------------------------------------------- send (group commit)

  async send(authorId: string, input: SendInput, workspaceId?: string): Promise<SendResult> {
    const access = await this.access.requireChannelMember(input.channelId, authorId, workspaceId);
    if (input.topicId || input.replyToId) await this.checkReferences(input);
    return new Promise<SendResult>((resolve, reject) => {
      const pending: PendingSend = { authorId, workspaceId: access.workspaceId, input, resolve, reject };
      if (input.onCreated) {
        // A send with an in-transaction hook (voice) takes the transactional path on its own.
        this.commitBatch(input.channelId, [pending]).then(({ results, events }) => {
          resolve(results[0]);
          this.fanout.publishEvents(events);
        }, reject);
        return;
      }
      const queue = this.queues.get(input.channelId);
      if (queue) queue.push(pending);
      else this.queues.set(input.channelId, [pending]);
      this.pump();
    });
  }

  /**
   * Starts writes while fewer than MESSAGE_WRITES_IN_FLIGHT run. Each write takes the queued sends of every
   * channel that has no write in flight (up to MAX_BATCH): sends that queued while earlier writes
   * ran share one transaction across channels (group commit), and a channel is in at most one
   * write at a time, so its sends get seqs in their arrival order on this node.
   */
  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const batch: PendingSend[] = [];
      const channelIds: string[] = [];
      for (const [channelId, queue] of this.queues) {
        if (this.busy.has(channelId)) continue;
        batch.push(...queue.splice(0, MAX_BATCH - batch.length));
        channelIds.push(channelId);
        if (queue.length === 0) this.queues.delete(channelId);
        if (batch.length >= MAX_BATCH) break;
      }
      if (batch.length === 0) return;
      channelIds.forEach((id) => this.busy.add(id));
      this.inFlight++;
      void this.write(batch).finally(() => {
        channelIds.forEach((id) => this.busy.delete(id));
        this.inFlight--;
        this.pump();
      });
    }
  }

  private write(batch: PendingSend[]): Promise<void> {
    // One statement serves several callers: it runs as all of them (their workspaces), each already checked.
    return runAsUser(
      batch.map((p) => p.authorId),
      () => this.writeBatch(batch),
    );
  }

  private async writeBatch(batch: PendingSend[]): Promise<void> {
    this.metrics.commitBatchSize.observe(batch.length);
    try {
      const { results, events } = await this.commitTextBatch(batch);
      batch.forEach((p, i) => p.resolve(results[i]));
      this.fanout.publishEvents(events);
    } catch {
      // A clientMsgId that raced in from another node, or one bad row, must not fail the batch:
      // each send is retried alone on the transactional path, which finds a raced message.
      for (const pending of batch) {
        try {
          const { results, events } = await this.commitBatch(pending.input.channelId, [pending]);
          pending.resolve(results[0]);
          this.fanout.publishEvents(events);
        } catch (single) {
          pending.reject(single);
        }
      }
    }
  }

  /**
   * The hot path, for text sends of any number of channels: ONE prepared statement, so one round
   * trip and one implicit transaction. It locks the batch's channel rows in id order (writers of the
   * same channels on any node wait their turn, and the fixed order rules out deadlocks), advances
   * each channel's head by its number of new messages (an UPDATE that waited for a lock works on the
   * committed head), inserts them with seqs head+1..head+n and their message.created events, and
   * touches their topics. A clientMsgId committed by another node while this statement waited for a
   * lock is not in its snapshot and trips the unique index instead; the batch then goes send by
   * send through the transactional path, which finds it. See docs/ARCHITECTURE.md.
   */
  private async commitTextBatch(batch: PendingSend[]): Promise<{ results: SendResult[]; events: EventEnvelope[] }> {
    const keyOf = (channelId: string, authorId: string, clientMsgId: string) => `${channelId}\u0000${authorId}\u0000${clientMsgId}`;
    // The first send of each (channel, author, clientMsgId) in arrival order; later copies get its message.
    const firstByKey = new Map<string, PendingSend>();
    for (const pending of batch) {
      const key = keyOf(pending.input.channelId, pending.authorId, pending.input.clientMsgId);
      if (!firstByKey.has(key)) firstByKey.set(key, pending);
    }
    const firsts = [...firstByKey.values()];
    const createdAt = new Date().toISOString();
    const { rows } = await this.withPgClient((client) =>
      client.query<MessageRow & { is_new: boolean }>({
        name: 'pigeon_send_text_batch',
        text: SEND_TEXT_BATCH_SQL,
        values: [
          createdAt,
          firsts.map((p) => p.input.channelId),
          firsts.map((p) => p.authorId),
          firsts.map((p) => p.input.clientMsgId),
          firsts.map((p) => p.input.topicId ?? null),
          firsts.map((p) => p.input.kind ?? 'text'),
          firsts.map((p) => p.input.body),
          firsts.map((p) => p.input.replyToId ?? null),
          createdAt,
        ],
      }),
    );
    const views = new Map<string, MessageView>();
    const events: EventEnvelope[] = [];
    const fresh = rows
      .filter((r) => r.is_new)
      .sort((a, b) => (a.channel_id === b.channel_id ? Number(a.seq) - Number(b.seq) : a.channel_id < b.channel_id ? -1 : 1));
    for (const row of fresh) {
      const view = toMessageView(row);
      views.set(keyOf(row.channel_id, row.author_id, row.client_msg_id), view);
      events.push({ workspaceId: row.workspace_id, channelId: row.channel_id, seq: view.seq, type: 'message.created', at: createdAt, data: view });
    }
    const freshIds = new Set(fresh.map((r) => r.id));
    const existing = rows.filter((r) => !r.is_new);
    for (const view of await this.decorate(existing)) views.set(keyOf(view.channelId, view.authorId, view.clientMsgId), view);
    const results = batch.map((pending) => {
      const key = keyOf(pending.input.channelId, pending.authorId, pending.input.clientMsgId);
      const message = views.get(key);
      if (!message) throw AppException.notFound('Channel');
      return { message, created: firstByKey.get(key) === pending && freshIds.has(message.id) };
    });
    return { results, events };
  }

  /** A pooled pg client for a named (prepared) statement, which TypeORM's query() cannot send. */
  private async withPgClient<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await work((await runner.connect()) as PgClient);
    } finally {
      await runner.release();
    }
  }

  private async commitBatch(
    channelId: string,
    batch: PendingSend[],
  ): Promise<{ results: SendResult[]; events: EventEnvelope[] }> {
    return this.dataSource.transaction(async (manager) => {
      const head = await lockChannelHead(manager, channelId);
      // The head lock serializes this channel's writers, so this look-up cannot race an insert.
      const existing: MessageRow[] = await manager.query(
        `SELECT m.* FROM messages m
           JOIN unnest($2::uuid[], $3::text[]) AS k(author_id, client_msg_id)
             ON m.author_id = k.author_id AND m.client_msg_id = k.client_msg_id
          WHERE m.channel_id = $1`,
        [channelId, batch.map((p) => p.authorId), batch.map((p) => p.input.clientMsgId)],
      );
      const known = new Map(existing.map((row) => [`${row.author_id}\u0000${row.client_msg_id}`, row]));
      const fresh: { pending: PendingSend; seq: number; key: string }[] = [];
      const firstOfKey = new Map<string, number>();
      for (const pending of batch) {
        const key = `${pending.authorId}\u0000${pending.input.clientMsgId}`;
        if (known.has(key) || firstOfKey.has(key)) continue;
        firstOfKey.set(key, fresh.length);
        fresh.push({ pending, seq: head.next(), key });
      }
      let inserted: MessageRow[] = [];
      if (fresh.length > 0) {
        inserted = await manager.query(
          `INSERT INTO messages (workspace_id, channel_id, topic_id, seq, author_id, client_msg_id, kind, body, reply_to_id, created_at)
           SELECT $1, $2, u.topic_id, u.seq, u.author_id, u.client_msg_id, u.kind, u.body, u.reply_to_id, $3
             FROM unnest($4::uuid[], $5::bigint[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::uuid[])
               AS u(topic_id, seq, author_id, client_msg_id, kind, body, reply_to_id)
           RETURNING *`,
          [
            head.workspaceId,
            channelId,
            head.at,
            fresh.map((f) => f.pending.input.topicId ?? null),
            fresh.map((f) => f.seq),
            fresh.map((f) => f.pending.authorId),
            fresh.map((f) => f.pending.input.clientMsgId),
            fresh.map((f) => f.pending.input.kind ?? 'text'),
            fresh.map((f) => f.pending.input.body),
            fresh.map((f) => f.pending.input.replyToId ?? null),
          ],
        );
        const topicIds = [...new Set(fresh.map((f) => f.pending.input.topicId).filter((t): t is string => !!t))];
        if (topicIds.length > 0) {
          await manager.query('UPDATE topics SET last_activity_at = $2 WHERE id = ANY($1::uuid[])', [topicIds, head.at]);
        }
      }
      const insertedBySeq = new Map(inserted.map((row) => [Number(row.seq), row]));
      for (const f of fresh) await f.pending.input.onCreated?.(manager, insertedBySeq.get(f.seq)!);
      const voiceIds = fresh.filter((f) => f.pending.input.kind === 'voice').map((f) => insertedBySeq.get(f.seq)!.id);
      const voices =
        voiceIds.length > 0 && this.decorator ? await this.decorator.voiceFor(voiceIds, manager) : new Map<string, VoiceView>();
      const views = new Map<string, MessageView>();
      for (const f of fresh) {
        const row = insertedBySeq.get(f.seq)!;
        const view = toMessageView(row, [], voices.get(row.id) ?? null);
        views.set(f.key, view);
        head.record(f.seq, 'message.created', view);
      }
      const events = await commitChannelHead(manager, head);
      const existingViews = await this.decorate(existing, manager);
      existingViews.forEach((view) => views.set(`${view.authorId}\u0000${view.clientMsgId}`, view));
      const results = batch.map((pending) => {
        const key = `${pending.authorId}\u0000${pending.input.clientMsgId}`;
        const index = firstOfKey.get(key);
        const created = index !== undefined && fresh[index].pending === pending;
        return { message: views.get(key)!, created };
      });
      return { results, events };
    });
  }

  private async checkReferences(input: SendInput): Promise<void> {
    if (input.topicId) {
      const rows = await this.dataSource.query('SELECT 1 FROM topics WHERE id = $1 AND channel_id = $2', [
        input.topicId,
        input.channelId,
      ]);
      if (rows.length === 0) throw AppException.notFound('Topic');
    }
    if (input.replyToId) {
      const rows = await this.dataSource.query('SELECT 1 FROM messages WHERE id = $1 AND channel_id = $2', [
        input.replyToId,
        input.channelId,
      ]);
      if (rows.length === 0) throw AppException.notFound('Message');
    }
  }

  // ---------------------------------------------------------------- edits, deletes, reactions

  // Edits, deletes and reactions are writes like sends: each attempt counts against the user's
  // write limit (socket and REST alike, since both come through here), before any work is done.

  async edit(userId: string, messageId: string, body: string, workspaceId?: string): Promise<MessageView> {
    await this.rateLimit.consumeWrite(userId);
    return this.changeMessage(userId, messageId, workspaceId, async (manager, row) => {
      if (row.author_id !== userId) throw AppException.forbidden("Only the author may edit a message");
      if (row.deleted_at) throw AppException.notFound('Message');
      if (row.kind !== 'text') throw AppException.validation('Only text messages can be edited');
      await manager.query('UPDATE messages SET body = $2, edited_at = now() WHERE id = $1', [messageId, body]);
      // The earlier text is gone from the log too: older events of the message now carry the new one.
      await redactEarlierEvents(manager, row, { body });
      return 'message.updated';
    });
  }

  async delete(userId: string, messageId: string, workspaceId?: string): Promise<{ id: string }> {
    await this.rateLimit.consumeWrite(userId);
    await this.changeMessage(userId, messageId, workspaceId, async (manager, row, role) => {
      if (row.author_id !== userId && (role === "system" || !isAdminRole(role))) throw AppException.forbidden('Only the author or an admin may delete');
      if (row.deleted_at) return null; // deleting twice is a no-op
      await manager.query("UPDATE messages SET deleted_at = now(), body = '' WHERE id = $1", [messageId]);
      await manager.query('DELETE FROM reactions WHERE message_id = $1', [messageId]);
      // Deletion really deletes: no earlier event, webhook payload or voice field keeps what was said.
      await redactEarlierEvents(manager, row, { body: '', deleted: true });
      return 'message.deleted';
    });
    return { id: messageId };
  }

  async addReaction(userId: string, messageId: string, emoji: string, workspaceId?: string): Promise<void> {
    await this.rateLimit.consumeWrite(userId);
    await this.changeMessage(userId, messageId, workspaceId, async (manager, row) => {
      if (row.deleted_at) throw AppException.notFound('Message');
      // The channel head is locked, so counting here cannot race another reaction on this message.
      const [present]: { distinct: string; mine: boolean }[] = await manager.query(
        `SELECT count(DISTINCT emoji) AS distinct, bool_or(emoji = $2) AS mine FROM reactions WHERE message_id = $1`,
        [messageId, emoji],
      );
      if (!present.mine && Number(present.distinct) >= this.maxReactions) {
        throw new AppException(ErrorCode.LIMIT_REACHED, `A message carries at most ${this.maxReactions} different reactions`);
      }
      const result: unknown[] = await manager.query(
        'INSERT INTO reactions (message_id, emoji, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1',
        [messageId, emoji, userId],
      );
      return result.length > 0 ? 'message.updated' : null;
    });
  }

  async removeReaction(userId: string, messageId: string, emoji: string, workspaceId?: string): Promise<void> {
    await this.rateLimit.consumeWrite(userId);
    await this.changeMessage(userId, messageId, workspaceId, async (manager) => {
      const result: [unknown[], number] = await manager.query(
        'DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3 RETURNING 1',
        [messageId, emoji, userId],
      );
      return result[1] > 0 ? 'message.updated' : null;
    });
  }

  /**
   * Locks the channel head, applies `mutate`, and when it reports a change appends one event
   * carrying the message as it now is. Voice status changes from the worker come through here too.
   */
  async changeMessage(
    userId: string | null,
    messageId: string,
    workspaceId: string | undefined,
    mutate: (manager: EntityManager, row: MessageRow, role: WorkspaceRole | "system") => Promise<ChannelEventType | null>,
  ): Promise<MessageView> {
    const found: MessageRow[] = await this.dataSource.query('SELECT * FROM messages WHERE id = $1', [messageId]);
    if (found.length === 0) throw AppException.notFound('Message');
    const channelId = found[0].channel_id;
    let role: WorkspaceRole | "system" = "system";
    if (userId !== null) {
      const access = await this.access.requireChannelMember(channelId, userId, workspaceId).catch(() => {
        throw AppException.notFound('Message');
      });
      role = access.role;
    }
    const { view, events } = await this.dataSource.transaction(async (manager) => {
      const head = await lockChannelHead(manager, channelId);
      const rows: MessageRow[] = await manager.query('SELECT * FROM messages WHERE id = $1', [messageId]);
      const type = await mutate(manager, rows[0], role);
      const after: MessageRow[] = await manager.query('SELECT * FROM messages WHERE id = $1', [messageId]);
      const [current] = await this.decorate(after, manager);
      if (type) head.append(type, eventSnapshot(current));
      return { view: current, events: await commitChannelHead(manager, head) };
    });
    this.fanout.publishEvents(events);
    return view;
  }

  /** Appends events for a non-message change (member.joined, topic.created...) inside `manager`'s transaction. */
  async appendInTransaction(
    manager: EntityManager,
    channelId: string,
    items: { type: ChannelEventType; data: unknown }[],
  ): Promise<EventEnvelope[]> {
    const head: ChannelHead = await lockChannelHead(manager, channelId);
    for (const item of items) head.append(item.type, item.data);
    return commitChannelHead(manager, head);
  }

  /** `channel:read` and PUT .../read: one rule for both, so the mark never moves back or past the head. */
  async markRead(userId: string, channelId: string, seq: number, workspaceId?: string): Promise<{ lastReadSeq: number }> {
    const access = await this.access.requireChannelMember(channelId, userId, workspaceId);
    const rows: [{ last_read_seq: string }[], number] = await this.dataSource.query(
      `UPDATE channel_members cm
          SET last_read_seq = GREATEST(cm.last_read_seq, LEAST($3::bigint, c.head_seq))
         FROM channels c
        WHERE cm.channel_id = $1 AND cm.user_id = $2 AND c.id = cm.channel_id
        RETURNING cm.last_read_seq`,
      [channelId, userId, seq],
    );
    const lastReadSeq = Number(rows[0][0]?.last_read_seq ?? 0);
    this.fanout.emit(channelRoom(channelId), 'read', { workspaceId: access.workspaceId, channelId, userId, seq: lastReadSeq });
    return { lastReadSeq };
  }

  // ---------------------------------------------------------------- reads

  async get(userId: string, messageId: string, workspaceId?: string): Promise<MessageView> {
    const rows: MessageRow[] = await this.dataSource.query('SELECT * FROM messages WHERE id = $1', [messageId]);
    if (rows.length === 0) throw AppException.notFound('Message');
    await this.access.requireChannelMember(rows[0].channel_id, userId, workspaceId).catch(() => {
      throw AppException.notFound('Message');
    });
    return (await this.decorate(rows))[0];
  }

  async history(
    channelId: string,
    query: { before?: number; after?: number; limit: number; topicId?: string },
  ): Promise<{ messages: MessageView[]; hasMore: boolean }> {
    const params: unknown[] = [channelId, query.limit + 1];
    let where = 'channel_id = $1';
    if (query.topicId) {
      params.push(query.topicId);
      where += ` AND topic_id = $${params.length}`;
    }
    if (query.before !== undefined) {
      params.push(query.before);
      where += ` AND seq < $${params.length}`;
    }
    if (query.after !== undefined) {
      params.push(query.after);
      where += ` AND seq > $${params.length}`;
    }
    // `after` pages forwards; otherwise newest first, then flipped to ascending.
    const order = query.after !== undefined && query.before === undefined ? 'ASC' : 'DESC';
    const rows: MessageRow[] = await this.dataSource.query(
      `SELECT * FROM messages WHERE ${where} ORDER BY seq ${order} LIMIT $2`,
      params,
    );
    const hasMore = rows.length > query.limit;
    const page = rows.slice(0, query.limit);
    if (order === 'DESC') page.reverse();
    return { messages: await this.decorate(page), hasMore };
  }

  /**
   * Catch-up for several channels in one answer, bounded: a channel named twice is answered once
   * (from the smaller afterSeq), at most `perChannel` events each and `total` in all, shared fairly so
   * every channel behind moves on (a small backlog is answered whole, big ones split the rest). A
   * channel cut short answers `hasMore`, so the client asks again from there. One query finds the
   * heads; channels with nothing new cost nothing more.
   */
  async syncChannels(
    entries: { channelId: string; afterSeq: number }[],
    perChannel: number,
    total: number,
  ): Promise<{ channelId: string; events: EventEnvelope[]; headSeq: number; hasMore: boolean }[]> {
    const from = new Map<string, number>();
    for (const { channelId, afterSeq } of entries) from.set(channelId, Math.min(afterSeq, from.get(channelId) ?? afterSeq));
    const heads: { id: string; head_seq: string }[] = await this.dataSource.query(
      'SELECT id, head_seq FROM channels WHERE id = ANY($1::uuid[])',
      [[...from.keys()]],
    );
    const headOf = new Map(heads.map((h) => [h.id, Number(h.head_seq)]));
    const share = fairShares(
      [...from].map(([channelId, afterSeq]) => Math.min(perChannel, Math.max(0, (headOf.get(channelId) ?? 0) - afterSeq))),
      total,
    );
    const answers = [];
    let i = 0;
    for (const [channelId, afterSeq] of from) {
      const headSeq = headOf.get(channelId) ?? 0;
      const quota = share[i++];
      if (quota === 0) {
        answers.push({ channelId, events: [], headSeq, hasMore: headSeq > afterSeq });
        continue;
      }
      const page = await this.events(channelId, afterSeq, quota);
      answers.push({ channelId, events: page.events, headSeq: Math.max(headSeq, page.headSeq), hasMore: page.hasMore });
    }
    return answers;
  }

  async events(
    channelId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ events: EventEnvelope[]; headSeq: number; hasMore: boolean }> {
    const [rows, head] = await Promise.all([
      this.dataSource.query(
        `SELECT workspace_id, channel_id, seq, type, at, data FROM channel_events
          WHERE channel_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`,
        [channelId, afterSeq, limit + 1],
      ) as Promise<{ workspace_id: string; channel_id: string; seq: string; type: never; at: Date; data: unknown }[]>,
      this.dataSource.query('SELECT head_seq FROM channels WHERE id = $1', [channelId]) as Promise<{ head_seq: string }[]>,
    ]);
    const hasMore = rows.length > limit;
    const events = rows.slice(0, limit).map((r) => ({
      workspaceId: r.workspace_id,
      channelId: r.channel_id,
      seq: Number(r.seq),
      type: r.type,
      at: r.at.toISOString(),
      data: r.data,
    }));
    return { events, headSeq: Number(head[0]?.head_seq ?? 0), hasMore };
  }

  async decorate(rows: MessageRow[], manager: EntityManager = this.dataSource.manager): Promise<MessageView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const reactionRows: { message_id: string; emoji: string; user_ids: string[] }[] = await manager.query(
      `SELECT message_id, emoji, array_agg(user_id::text ORDER BY created_at, user_id) AS user_ids
         FROM reactions WHERE message_id = ANY($1::uuid[]) GROUP BY message_id, emoji ORDER BY min(created_at), emoji`,
      [ids],
    );
    const reactions = new Map<string, ReactionView[]>();
    for (const r of reactionRows) {
      const list = reactions.get(r.message_id) ?? [];
      list.push({ emoji: r.emoji, count: r.user_ids.length, userIds: r.user_ids });
      reactions.set(r.message_id, list);
    }
    const voiceIds = rows.filter((r) => r.kind === 'voice').map((r) => r.id);
    const voices =
      voiceIds.length > 0 && this.decorator ? await this.decorator.voiceFor(voiceIds, manager) : new Map<string, VoiceView>();
    return rows.map((row) => toMessageView(row, row.deleted_at ? [] : (reactions.get(row.id) ?? []), voices.get(row.id) ?? null));
  }
}

/** Reactors listed per emoji in an event snapshot; `count` stays exact and history lists everyone. */
export const EVENT_REACTORS_PER_EMOJI = 20;

/**
 * The message as an event carries it: bounded, since every reaction appends one and the log keeps
 * them all (50 emoji of 20 reactors at most, not every reactor of every emoji).
 */
export function eventSnapshot(view: MessageView): MessageView {
  if (view.reactions.every((r) => r.userIds.length <= EVENT_REACTORS_PER_EMOJI)) return view;
  return { ...view, reactions: view.reactions.map((r) => ({ ...r, userIds: r.userIds.slice(0, EVENT_REACTORS_PER_EMOJI) })) };
}

/**
 * Splits `total` over `needs` by water-filling: every need gets an equal share, a need smaller than
 * its share gives the rest back to the others. Never more than a need, never more than `total` in all.
 */
export function fairShares(needs: number[], total: number): number[] {
  const shares = needs.map(() => 0);
  let remaining = total;
  const order = needs.map((need, index) => ({ need, index })).filter((n) => n.need > 0).sort((a, b) => a.need - b.need);
  for (let k = 0; k < order.length && remaining > 0; k++) {
    const even = Math.floor(remaining / (order.length - k));
    const given = Math.min(order[k].need, Math.max(1, even));
    shares[order[k].index] = given;
    remaining -= given;
  }
  return shares;
}
