import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { ChannelEventRow, MessageRow } from './message.rows';

/** Reads of the channel log (catch-up by primary key range) and the redaction of stale copies. */
@Injectable()
export class ChannelEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  page(channelId: string, afterSeq: number, limit: number): Promise<ChannelEventRow[]> {
    return this.dataSource.query(
      `SELECT workspace_id, channel_id, seq, type, at, data FROM channel_events
        WHERE channel_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`,
      [channelId, afterSeq, limit],
    );
  }

  async heads(channelIds: readonly string[]): Promise<Map<string, number>> {
    const rows: { id: string; head_seq: string }[] = await this.dataSource.query(
      'SELECT id, head_seq FROM channels WHERE id = ANY($1::uuid[])',
      [channelIds],
    );
    return new Map(rows.map((row) => [row.id, Number(row.head_seq)]));
  }

  /**
   * Rewrites the stored copies of a message that an edit or a delete made stale: its earlier
   * `message.*` events in the channel log and the webhook deliveries that carry them, so a member who
   * joins later (or a delivery still pending) never reads text that was deleted or edited away.
   * Runs in the edit's transaction, with the channel head locked. `body` goes in as text and is
   * turned into JSON by Postgres.
   */
  async redactEarlier(manager: EntityManager, message: MessageRow, change: { body: string; deleted?: boolean }): Promise<void> {
    const patch = `jsonb_build_object('body', $4::text) || $5::jsonb`;
    const extra = change.deleted ? '{"reactions": [], "voice": null}' : '{}';
    // The message's events all come at or after its own seq; the expression index finds them.
    await manager.query(
      `UPDATE channel_events SET data = data || ${patch}
        WHERE channel_id = $1 AND seq >= $2 AND (data->>'id') = $3::text AND type LIKE 'message.%'`,
      [message.channel_id, message.seq, message.id, change.body, extra],
    );
    await manager.query(
      `UPDATE webhook_deliveries SET payload = jsonb_set(payload, '{data}', (payload->'data') || ${patch})
        WHERE workspace_id = $1 AND (payload->'data'->>'id') = $3::text AND $2::bigint IS NOT NULL`,
      [message.workspace_id, message.seq, message.id, change.body, extra],
    );
  }
}
