import type { EntityManager } from 'typeorm';
import type { MessageRow } from './message.view';

/**
 * Rewrites the stored copies of a message that an edit or a delete made stale: its earlier
 * `message.*` events in the channel log and the webhook deliveries that carry them, so a member who
 * joins later (or a delivery still pending) never reads text that was deleted or edited away.
 * Runs in the caller's transaction, with the channel head locked.
 */
export async function redactEarlierEvents(manager: EntityManager, message: MessageRow, patch: Record<string, unknown>): Promise<void> {
  const json = JSON.stringify(patch);
  // The message's events all come at or after its own seq; the expression index finds them.
  await manager.query(
    `UPDATE channel_events SET data = data || $4::jsonb
      WHERE channel_id = $1 AND seq >= $2 AND (data->>'id') = $3::text AND type LIKE 'message.%'`,
    [message.channel_id, message.seq, message.id, json],
  );
  await manager.query(
    `UPDATE webhook_deliveries SET payload = jsonb_set(payload, '{data}', (payload->'data') || $3::jsonb)
      WHERE workspace_id = $1 AND (payload->'data'->>'id') = $2::text`,
    [message.workspace_id, message.id, json],
  );
}
