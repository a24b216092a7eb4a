import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { MessagesService } from '../messages/messages.service';
import type { MessageView } from '../messages/message.view';
import type { SearchQueryDto } from './dto/search.dto';
import { parseSearchQuery } from './search-query';
import { SearchRateLimiter } from './search-rate-limiter';
import { MARK_END, MARK_START, SearchFilters, SearchKey, SearchRepository } from './search.repository';

export interface SearchResult {
  message: MessageView;
  channelId: string;
  topicId: string | null;
  seq: number;
  snippet: string;
}

const DEFAULT_LIMIT = 20;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The excerpt as safe HTML: everything escaped, then the match marks turned into <mark>…</mark>. */
export function toSnippet(headline: string): string {
  return headline
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c])
    .replaceAll(MARK_START, '<mark>')
    .replaceAll(MARK_END, '</mark>');
}

const badCursor = () => AppException.validation('cursor is not valid for this search', [{ field: 'cursor', message: 'cursor is not valid for this search' }]);

@Injectable()
export class SearchService {
  constructor(
    private readonly repository: SearchRepository,
    private readonly access: AccessService,
    private readonly messages: MessagesService,
    private readonly limiter: SearchRateLimiter,
  ) {}

  async search(userId: string, workspaceId: string, input: SearchQueryDto): Promise<{ results: SearchResult[]; nextCursor: string | null }> {
    await this.access.requireWorkspaceMember(workspaceId, userId);
    await this.limiter.consume(userId);
    const parsed = parseSearchQuery(input.q);
    const limit = input.limit ?? DEFAULT_LIMIT;
    // The cursor is bound to the search it came from, so it cannot page a different one.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([workspaceId, input.q.trim(), input.channelId, input.authorId, input.topicId, input.hasVoice, input.before, input.after]))
      .digest('base64url')
      .slice(0, 12);
    const after = input.cursor ? decodeCursor(input.cursor, fingerprint) : null;

    const config = await this.repository.searchConfig(workspaceId);
    if (parsed.text && !(await this.repository.hasTerms(config, parsed.text))) {
      throw AppException.validation('q has no searchable words (only stop words or punctuation)', [
        { field: 'q', message: 'q has no searchable words' },
      ]);
    }
    const filters = await this.filters(userId, workspaceId, input, parsed);
    if (filters.channelIds.length === 0) return { results: [], nextCursor: null };

    const rows = await this.repository.search(workspaceId, config, parsed.text, filters, after, limit + 1);
    const page = rows.slice(0, limit);
    const views = await this.messages.decorate(page);
    const results = page.map((row, i) => ({
      message: views[i],
      channelId: row.channel_id,
      topicId: row.topic_id,
      seq: Number(row.seq),
      snippet: toSnippet(row.headline ?? ''),
    }));
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > limit && last ? encodeCursor({ rank: last.rank_key, createdAt: last.created_key, id: last.id }, fingerprint) : null;
    return { results, nextCursor };
  }

  async setSearchConfig(userId: string, workspaceId: string, config: string): Promise<{ id: string; searchConfig: string }> {
    await this.access.requireWorkspaceAdmin(workspaceId, userId);
    if (!(await this.repository.configExists(config))) {
      const message = `searchConfig "${config}" is not a text search configuration of this database`;
      throw AppException.validation(message, [{ field: 'searchConfig', message }]);
    }
    await this.repository.setSearchConfig(workspaceId, config);
    return { id: workspaceId, searchConfig: config };
  }

  private async filters(
    userId: string,
    workspaceId: string,
    input: SearchQueryDto,
    parsed: ReturnType<typeof parseSearchQuery>,
  ): Promise<SearchFilters> {
    // Visibility is membership now: a removed member's channels are gone from this list.
    let channels = await this.repository.memberChannels(workspaceId, userId);
    if (input.channelId) {
      const wanted = input.channelId.toLowerCase();
      channels = channels.filter((c) => c.id === wanted);
      if (channels.length === 0) throw AppException.notFound('Channel');
    }
    if (parsed.channelName !== undefined) {
      const name = parsed.channelName.toLowerCase();
      channels = channels.filter((c) => c.name?.toLowerCase() === name);
      if (channels.length === 0) throw AppException.notFound('Channel');
    }
    const filters: SearchFilters = { channelIds: channels.map((c) => c.id) };
    let authorIds = input.authorId ? [input.authorId.toLowerCase()] : undefined;
    if (parsed.from !== undefined) {
      const named = await this.repository.membersNamed(workspaceId, parsed.from);
      if (named.length === 0) throw AppException.notFound('User');
      authorIds = authorIds ? authorIds.filter((id) => named.includes(id)) : named;
      if (authorIds.length === 0) return { channelIds: [] };
    }
    filters.authorIds = authorIds;
    if (parsed.mentions !== undefined) {
      filters.mentionIds = await this.repository.membersNamed(workspaceId, parsed.mentions);
      if (filters.mentionIds.length === 0) throw AppException.notFound('User');
    }
    if (input.topicId) filters.topicId = input.topicId.toLowerCase();
    if (input.hasVoice !== undefined && parsed.hasVoice && !input.hasVoice) return { channelIds: [] };
    filters.hasVoice = parsed.hasVoice ?? input.hasVoice;
    filters.before = latest(input.before ? new Date(input.before) : undefined, parsed.before, Math.min);
    filters.after = latest(input.after ? new Date(input.after) : undefined, parsed.after, Math.max);
    return filters;
  }
}

/** Two bounds of the same side combine to the tighter one. */
function latest(a: Date | undefined, b: Date | undefined, pick: (x: number, y: number) => number): Date | undefined {
  if (!a || !b) return a ?? b;
  return new Date(pick(a.getTime(), b.getTime()));
}

function encodeCursor(key: SearchKey, fingerprint: string): string {
  return Buffer.from(JSON.stringify([key.rank, key.createdAt, key.id, fingerprint])).toString('base64url');
}

function decodeCursor(cursor: string, fingerprint: string): SearchKey {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(value) || value.length !== 4 || !value.every((v) => typeof v === 'string')) throw badCursor();
  const [rank, createdAt, id, print] = value as string[];
  if (
    print !== fingerprint ||
    !/^-?\d+(\.\d+)?(e-?\d+)?$/.test(rank) ||
    !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/.test(createdAt) ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)
  ) {
    throw badCursor();
  }
  return { rank, createdAt, id };
}
