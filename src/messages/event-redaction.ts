import type { EntityManager } from 'typeorm';
import type { MessageRow } from './message.view';

/**
 * Rewrites the stored copies of a message that an edit or a delete made stale: its earlier
 * `message.*` events in the channel log and the webhook deliveries that carry them, so a member who
 * joins later (or a delivery still pending) never reads text that was deleted or edited away.
 * Runs in the caller's transaction, with the channel head locked. `body` goes in as text and is
 * turned into JSON by Postgres, exactly as the send path stores it.
 */
export async function redactEarlierEvents(
  manager: EntityManager,
  message: MessageRow,
  change: { body: string; deleted?: boolean },
): Promise<void> {
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
