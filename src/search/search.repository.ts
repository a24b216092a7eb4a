import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Channel } from '../channels/channel.entity';
import type { MessageRow } from '../messages/message.view';

/** Marks ts_headline puts around matches; stripped from the text first, replaced by <mark> after HTML-escaping. */
export const MARK_START = '\u0002';
export const MARK_END = '\u0003';
const HEADLINE_OPTIONS = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`;

export interface SearchFilters {
  channelIds: string[];
  authorIds?: string[];
  mentionIds?: string[];
  topicId?: string;
  hasVoice?: boolean;
  before?: Date;
  after?: Date;
}

export interface SearchKey {
  rank: string;
  createdAt: string;
  id: string;
}

export type SearchRow = MessageRow & { rank_key: string; created_key: string; headline: string };

const MESSAGE_COLUMNS = `m.id, m.workspace_id, m.channel_id, m.topic_id, m.seq, m.author_id, m.client_msg_id, m.kind, m.body,
  m.reply_to_id, m.created_at, m.edited_at, m.deleted_at`;

// Body and transcript together: a voice message is found (and excerpted) by what was said.
const SEARCHED_TEXT = `translate(concat_ws(' — ', nullif(page.body, ''), (SELECT v.transcript FROM voice_clips v WHERE v.message_id = page.id)), E'\\x02\\x03', '')`;

/**
 * The search SQL: visibility is the caller's channel set, passed in; ranking, keyset pages and
 * excerpts here. Every query is bounded by the workspace or by channel ids read within it.
 */
@Injectable()
export class SearchRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async searchConfig(workspaceId: string): Promise<string> {
    const rows: { search_config: string }[] = await this.dataSource.query('SELECT search_config FROM workspaces WHERE id = $1', [workspaceId]);
    return rows[0]?.search_config ?? 'simple';
  }

  async setSearchConfig(workspaceId: string, config: string): Promise<void> {
    await this.dataSource.query('UPDATE workspaces SET search_config = $2 WHERE id = $1', [workspaceId, config]);
  }

  async configExists(config: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM pg_ts_config WHERE cfgname = $1', [config]);
    return rows.length > 0;
  }

  /** Channels the user is a member of now, in this workspace (public, private and direct alike). */
  async memberChannels(workspaceId: string, userId: string): Promise<Pick<Channel, 'id' | 'name'>[]> {
    return this.dataSource.query(
      `SELECT c.id, c.name FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
        WHERE cm.user_id = $1 AND c.workspace_id = $2`,
      [userId, workspaceId],
    );
  }

  /** Workspace members named by id or by display name (case-insensitive). */
  async membersNamed(workspaceId: string, nameOrId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT u.id FROM workspace_members wm JOIN users u ON u.id = wm.user_id
        WHERE wm.workspace_id = $1 AND (u.id::text = lower($2) OR lower(u.display_name) = lower($2))`,
      [workspaceId, nameOrId],
    );
    return rows.map((r) => r.id);
  }

  /** Whether websearch_to_tsquery finds any searchable term (not only stop words or punctuation). */
  async hasTerms(config: string, text: string): Promise<boolean> {
    const rows: { n: number }[] = await this.dataSource.query('SELECT numnode(websearch_to_tsquery($1::regconfig, $2)) AS n', [config, text]);
    return rows[0].n > 0;
  }

  /** The workspace bounds the search too, so a channel id of another workspace finds nothing. */
  async search(
    workspaceId: string,
    config: string,
    text: string,
    filters: SearchFilters,
    after: SearchKey | null,
    limit: number,
  ): Promise<SearchRow[]> {
    const params: unknown[] = [filters.channelIds, workspaceId];
    const param = (value: unknown) => `$${params.push(value)}`;
    // Only referenced with text: Postgres refuses a parameter it cannot type.
    const cfg = text.length > 0 ? `${param(config)}::regconfig` : '';
    const where = ['m.channel_id = ANY($1::uuid[])', 'm.workspace_id = $2', 'm.deleted_at IS NULL'];
    const hasText = text.length > 0;
    const query = hasText ? `websearch_to_tsquery(${cfg}, ${param(text)})` : null;
    if (query) where.push(`m.search_vector @@ ${query}`);
    if (filters.authorIds) where.push(`m.author_id = ANY(${param(filters.authorIds)}::uuid[])`);
    if (filters.mentionIds) where.push(`m.body LIKE ANY(${param(filters.mentionIds.map((id) => `%<@${id}>%`))}::text[])`);
    if (filters.topicId) where.push(`m.topic_id = ${param(filters.topicId)}`);
    if (filters.hasVoice !== undefined) where.push(filters.hasVoice ? `m.kind = 'voice'` : `m.kind <> 'voice'`);
    if (filters.before) where.push(`m.created_at < ${param(filters.before)}`);
    if (filters.after) where.push(`m.created_at >= ${param(filters.after)}`);
    const rank = query ? `ts_rank(m.search_vector, ${query})` : '0::real';
    if (after) {
      where.push(`(${rank}, m.created_at, m.id) < (${param(after.rank)}::real, ${param(after.createdAt)}::timestamptz, ${param(after.id)}::uuid)`);
    }
    const headline = query
      ? `ts_headline(${cfg}, ${SEARCHED_TEXT}, ${query}, '${HEADLINE_OPTIONS}')`
      : `left(${SEARCHED_TEXT}, 200)`;
    return this.dataSource.query(
      // Excerpts only for the page: the outer query runs ts_headline on at most `limit` rows.
      `SELECT page.*, page.rank::text AS rank_key, ${headline} AS headline FROM (
         SELECT ${MESSAGE_COLUMNS}, ${rank} AS rank, m.created_at::text AS created_key
           FROM messages m
          WHERE ${where.join(' AND ')}
          ORDER BY rank DESC, m.created_at DESC, m.id DESC
          LIMIT ${param(limit)}
       ) page ORDER BY page.rank DESC, page.created_at DESC, page.id DESC`,
      params,
    );
  }
}
