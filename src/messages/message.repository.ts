import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { toPgJson } from '../common/pg-json';
import { SqlCtes, SqlParams } from '../common/sql-params';
import { unheardWhereSql } from '../listening/unheard.sql';
import type { MessageKind } from './message.entity';
import type { MessageRow } from './message.rows';

/** A message to insert; its seq comes from the locked channel head. */
export interface NewMessage {
  /** Made by the writer (a v4 UUID, like the column's default), so the event can carry it before the insert. */
  id: string;
  workspaceId: string;
  channelId: string;
  topicId: string | null;
  seq: number;
  authorId: string;
  clientMsgId: string;
  kind: MessageKind;
  body: string;
  replyToId: string | null;
}

export interface ClientKey {
  channelId: string;
  authorId: string;
  clientMsgId: string;
}

export interface HistoryQuery {
  before?: number;
  after?: number;
  limit: number;
  topicId?: string;
  /** Only this member's unheard voice messages (src/listening), oldest first. */
  unheardFor?: string;
}

/** The `messages` table (and the topics a message touches). */
@Injectable()
export class MessageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<MessageRow | null> {
    const rows: MessageRow[] = await manager.query('SELECT * FROM messages WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  /**
   * The messages already stored under these idempotency keys, through the unique index. The keys go
   * as arrays: `unnest` tells the planner how many rows it gets, where `jsonb_to_recordset` is guessed
   * at 100 and makes it hash-join a sequential scan of the whole table.
   */
  findByClientKeys(manager: EntityManager, keys: readonly ClientKey[]): Promise<MessageRow[]> {
    return manager.query(
      `SELECT m.* FROM messages m
         JOIN unnest($1::uuid[], $2::uuid[], $3::text[]) AS k(channel_id, author_id, client_msg_id)
           ON m.author_id = k.author_id AND m.channel_id = k.channel_id AND m.client_msg_id = k.client_msg_id`,
      [keys.map((k) => k.channelId), keys.map((k) => k.authorId), keys.map((k) => k.clientMsgId)],
    );
  }

  /**
   * Inserts the messages whose idempotency key is new (the others are skipped: the caller compares
   * counts) and touches their topics, in one statement.
   */
  insertMany(manager: EntityManager, messages: readonly NewMessage[], at: Date): Promise<MessageRow[]> {
    const params = new SqlParams();
    return manager.query(`WITH ${this.insertManyCtes(params, messages, at)} SELECT * FROM inserted`, params.values);
  }

  /**
   * insertMany as CTEs (`inserted`, `touched`) of a larger statement. The rows go as one JSON
   * document: one native JSON.stringify instead of ten array literals escaped element by element.
   */
  insertManyCtes(params: SqlParams, messages: readonly NewMessage[], at: Date): SqlCtes {
    const createdAt = params.bind(at, 'timestamptz');
    return `inserted AS (
      INSERT INTO messages (id, workspace_id, channel_id, topic_id, seq, author_id, client_msg_id, kind, body, reply_to_id, created_at)
      SELECT u.id, u."workspaceId", u."channelId", u."topicId", u.seq, u."authorId", u."clientMsgId", u.kind, u.body, u."replyToId", ${createdAt}
        FROM jsonb_to_recordset(${params.bind(toPgJson(messages), 'jsonb')}) AS u(id uuid, "workspaceId" uuid, "channelId" uuid,
             "topicId" uuid, seq bigint, "authorId" uuid, "clientMsgId" text, kind text, body text, "replyToId" uuid)
      ON CONFLICT (author_id, channel_id, client_msg_id) DO NOTHING
      RETURNING *
    ), touched AS (
      UPDATE topics SET last_activity_at = ${createdAt} WHERE id IN (SELECT topic_id FROM inserted WHERE topic_id IS NOT NULL)
    )`;
  }

  async topicInChannel(topicId: string, channelId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM topics WHERE id = $1 AND channel_id = $2', [topicId, channelId]);
    return rows.length > 0;
  }

  async messageInChannel(messageId: string, channelId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM messages WHERE id = $1 AND channel_id = $2', [messageId, channelId]);
    return rows.length > 0;
  }

  async updateBody(manager: EntityManager, id: string, body: string): Promise<void> {
    await manager.query('UPDATE messages SET body = $2, edited_at = now() WHERE id = $1', [id, body]);
  }

  async markDeleted(manager: EntityManager, id: string): Promise<void> {
    await manager.query("UPDATE messages SET deleted_at = now(), body = '' WHERE id = $1", [id]);
  }

  /** One page in ascending seq: `after` pages forwards, otherwise the newest page before `before`. */
  async history(channelId: string, query: HistoryQuery): Promise<{ rows: MessageRow[]; hasMore: boolean }> {
    const params: unknown[] = [channelId, query.limit + 1];
    let where = 'channel_id = $1';
    if (query.unheardFor) {
      params.push(query.unheardFor);
      where += ` AND ${unheardWhereSql(`$${params.length}`)}`;
    }
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
    // `after` pages forwards; unheard voice messages are listed oldest first (the next to play).
    const order = query.unheardFor || (query.after !== undefined && query.before === undefined) ? 'ASC' : 'DESC';
    const rows: MessageRow[] = await this.dataSource.query(
      `SELECT * FROM messages x WHERE ${where} ORDER BY seq ${order} LIMIT $2`,
      params,
    );
    const page = rows.slice(0, query.limit);
    if (order === 'DESC') page.reverse();
    return { rows: page, hasMore: rows.length > query.limit };
  }
}
