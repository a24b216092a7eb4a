import type { NotifyLevel } from '../channels/channel-member.entity';
import type { ChannelKind } from '../channels/channel.entity';

/** What a push notification shows: the contract's payload `{type: "message", ...}`. */
export interface PushPayload {
  type: 'message';
  workspaceId: string;
  channelId: string;
  messageId: string;
  title: string;
  body: string;
}

const MENTION = /<@([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>/gi;
export const PUSH_BODY_MAX_CHARS = 120;

/** User ids mentioned as `<@userId>` in a message body, lower-cased, each once. */
export function mentionedUserIds(body: string): string[] {
  return [...new Set([...body.matchAll(MENTION)].map((m) => m[1].toLowerCase()))];
}

/** A member's level when they never chose one: DMs `all`, every other channel `mentions`. */
export function effectiveLevel(level: NotifyLevel | null, channelKind: ChannelKind): NotifyLevel {
  return level ?? (channelKind === 'direct' ? 'all' : 'mentions');
}

/** Whether a message reaches a member at this level; `none` never, a DM or a mention always otherwise. */
export function admits(level: NotifyLevel, channelKind: ChannelKind, mentioned: boolean): boolean {
  if (level === 'none') return false;
  return level === 'all' || channelKind === 'direct' || mentioned;
}

export function pushTitle(authorName: string, channel: { kind: ChannelKind; name: string | null }): string {
  return `${authorName} · ${channel.kind === 'direct' || !channel.name ? 'Direct message' : `#${channel.name}`}`;
}

/** `m:ss` (or `h:mm:ss`), rounded to the second. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const seconds = String(total % 60).padStart(2, '0');
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}:${seconds}`;
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${seconds}`;
}

/**
 * The notification text: for text, the body with mentions shown as `@name` (unknown ids stay as
 * written), whitespace collapsed, cut at 120 characters; for voice, `Voice message (0:12)`.
 */
export function pushBody(
  message: { kind: string; body: string; durationMs: number | null },
  names: ReadonlyMap<string, string>,
): string {
  if (message.kind === 'voice') {
    return message.durationMs === null ? 'Voice message' : `Voice message (${formatDuration(message.durationMs)})`;
  }
  const text = message.body
    .replace(MENTION, (whole, id: string) => {
      const name = names.get(id.toLowerCase());
      return name === undefined ? whole : `@${name}`;
    })
    .replace(/\s+/g, ' ')
    .trim();
  const characters = [...text];
  if (characters.length <= PUSH_BODY_MAX_CHARS) return text;
  return `${characters
    .slice(0, PUSH_BODY_MAX_CHARS - 1)
    .join('')
    .trimEnd()}…`;
}
