import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { ChannelEventRepository } from './channel-event.repository';
import type { ChannelEventTextRow } from './message.rows';
import { HistoryQuery, MessageRepository } from './message.repository';
import { parsedEventEnvelope, toRawEventEnvelope, type EventEnvelope, type MessageView } from './message.view';
import { MessageViews } from './message-views';

export interface EventPage {
  events: EventEnvelope[];
  headSeq: number;
  hasMore: boolean;
}

/** Reads: one message, history pages, and catch-up from the channel log (REST events and `sync`). */
@Injectable()
export class MessageQueries {
  constructor(
    private readonly messages: MessageRepository,
    private readonly events: ChannelEventRepository,
    private readonly views: MessageViews,
    private readonly access: AccessService,
    private readonly rateLimit: RateLimitService,
    private readonly config: AppConfigService,
  ) {}

  async get(userId: string, messageId: string, workspaceId?: string): Promise<MessageView> {
    const row = await this.messages.findById(messageId);
    if (!row) throw AppException.notFound('Message');
    await this.access.requireChannelMember(row.channel_id, userId, workspaceId).catch(() => {
      throw AppException.notFound('Message');
    });
    return (await this.views.decorate([row]))[0];
  }

  /** The caller's membership is checked by the caller (controller). */
  async history(channelId: string, query: HistoryQuery): Promise<{ messages: MessageView[]; hasMore: boolean }> {
    const { rows, hasMore } = await this.messages.history(channelId, query);
    return { messages: await this.views.decorate(rows), hasMore };
  }

  /**
   * The socket's `sync`: at most SYNC_MAX_CHANNELS distinct channels, each one the caller is a
   * member of, counted against the caller's catch-up budget; pages of SYNC_PAGE_LIMIT at most.
   */
  async sync(userId: string, entries: { channelId: string; afterSeq: number }[], limit?: number) {
    const distinct = new Set(entries.map((c) => c.channelId));
    const maxChannels = this.config.get('SYNC_MAX_CHANNELS');
    if (distinct.size > maxChannels) {
      const message = `at most ${maxChannels} distinct channels per sync`;
      throw AppException.validation(message, [{ field: 'channels', message }]);
    }
    await this.rateLimit.consumeSync(userId);
    for (const channelId of distinct) await this.access.requireChannelMember(channelId, userId);
    const pageLimit = this.config.get('SYNC_PAGE_LIMIT');
    return { channels: await this.syncChannels(entries, Math.min(limit ?? pageLimit, pageLimit), this.config.get('SYNC_MAX_EVENTS')) };
  }

  /**
   * Catch-up for several channels in one answer (event data as RawJson, for a socket), bounded: a channel named twice is answered once
   * (from the smaller afterSeq), at most `perChannel` events each and `total` in all, shared fairly so
   * every channel behind moves on (a small backlog is answered whole, big ones split the rest). A
   * channel cut short answers `hasMore`, so the client asks again from there. When every backlog fits,
   * heads and events come in one statement; otherwise a second one reads the fair shares.
   */
  async syncChannels(
    entries: { channelId: string; afterSeq: number }[],
    perChannel: number,
    total: number,
  ): Promise<({ channelId: string } & EventPage)[]> {
    // Keyed as Postgres spells ids; answered as the client spelled them first.
    const from = new Map<string, { spelled: string; afterSeq: number }>();
    for (const { channelId, afterSeq } of entries) {
      const key = channelId.toLowerCase();
      const seen = from.get(key);
      from.set(key, { spelled: seen?.spelled ?? channelId, afterSeq: Math.min(afterSeq, seen?.afterSeq ?? afterSeq) });
    }
    const starts = [...from].map(([channelId, { afterSeq }]) => ({ channelId, afterSeq }));
    const rows = await this.events.catchUp(starts, perChannel, total);
    const heads = new Map<string, { headSeq: number; need: number }>();
    const events = new Map<string, EventEnvelope[]>();
    for (const row of rows) {
      if (!heads.has(row.channel_id)) heads.set(row.channel_id, { headSeq: Number(row.head_seq), need: Number(row.need) });
      if (row.seq !== undefined && row.seq !== null) push(events, row.channel_id, toRawEventEnvelope(row as ChannelEventTextRow));
    }
    const needs = starts.map((s) => heads.get(s.channelId)?.need ?? 0);
    if (needs.reduce((a, b) => a + b, 0) > total) {
      const shares = fairShares(needs, total);
      const wanted = starts.map((s, i) => ({ ...s, quota: shares[i] })).filter((s) => s.quota > 0);
      for (const row of wanted.length > 0 ? await this.events.pages(wanted) : []) push(events, row.channel_id, toRawEventEnvelope(row));
    }
    return starts.map(({ channelId, afterSeq }) => {
      const page = events.get(channelId) ?? [];
      const lastSeq = page.length > 0 ? page[page.length - 1].seq : afterSeq;
      // A second read may see events committed after the heads were read.
      const headSeq = Math.max(heads.get(channelId)?.headSeq ?? 0, lastSeq);
      return { channelId: from.get(channelId)!.spelled, events: page, headSeq, hasMore: headSeq > lastSeq };
    });
  }

  async eventPage(channelId: string, afterSeq: number, limit: number): Promise<EventPage> {
    const [page] = await this.syncChannels([{ channelId, afterSeq }], limit, limit);
    return { events: page.events.map(parsedEventEnvelope), headSeq: page.headSeq, hasMore: page.hasMore };
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
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
