import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ReactionGroupRow } from './message.rows';

/** The `reactions` table. Writes run with the message's channel head locked. */
@Injectable()
export class ReactionRepository {
  /** Reactors per (message, emoji), emoji in first-reaction order, reactors in reaction order. */
  groups(manager: EntityManager, messageIds: readonly string[]): Promise<ReactionGroupRow[]> {
    return manager.query(
      `SELECT message_id, emoji, array_agg(user_id::text ORDER BY created_at, user_id) AS user_ids
         FROM reactions WHERE message_id = ANY($1::uuid[]) GROUP BY message_id, emoji ORDER BY min(created_at), emoji`,
      [messageIds],
    );
  }

  /** How many different emoji the message carries, and whether `emoji` is one of them. */
  async emojiCount(manager: EntityManager, messageId: string, emoji: string): Promise<{ distinct: number; present: boolean }> {
    const [row]: { distinct: string; mine: boolean | null }[] = await manager.query(
      `SELECT count(DISTINCT emoji) AS distinct, bool_or(emoji = $2) AS mine FROM reactions WHERE message_id = $1`,
      [messageId, emoji],
    );
    return { distinct: Number(row.distinct), present: !!row.mine };
  }

  /** False when the user already reacted with this emoji. */
  async add(manager: EntityManager, messageId: string, emoji: string, userId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      'INSERT INTO reactions (message_id, emoji, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1',
      [messageId, emoji, userId],
    );
    return rows.length > 0;
  }

  /** False when there was no such reaction. */
  async remove(manager: EntityManager, messageId: string, emoji: string, userId: string): Promise<boolean> {
    // TypeORM answers a DELETE with [rows, affected].
    const [, affected]: [unknown[], number] = await manager.query(
      'DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3 RETURNING 1',
      [messageId, emoji, userId],
    );
    return affected > 0;
  }

  async removeAll(manager: EntityManager, messageId: string): Promise<void> {
    await manager.query('DELETE FROM reactions WHERE message_id = $1', [messageId]);
  }
}
