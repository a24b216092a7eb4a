import { AppException } from '../common/app.exception';

export const SEARCH_QUERY_MAX_LENGTH = 200;

/** What a `q` says once its inline operators are taken out. */
export interface ParsedQuery {
  /** The words, quotes, `or` and `-word`, for websearch_to_tsquery; may be empty when only operators were given. */
  text: string;
  channelName?: string;
  from?: string;
  mentions?: string;
  hasVoice?: boolean;
  /** Start of the day after/before which messages are wanted (UTC). */
  after?: Date;
  before?: Date;
}

const OPERATORS = ['in', 'from', 'mentions', 'has', 'before', 'after'] as const;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

const invalid = (message: string) => AppException.validation(message, [{ field: 'q', message }]);

/** `YYYY-MM-DD` as midnight UTC, refusing impossible dates like 2026-02-30. */
export function parseDay(value: string, field = 'q'): Date {
  const match = DAY.exec(value);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!match || !date || date.getUTCDate() !== Number(match[3]) || date.getUTCMonth() !== Number(match[2]) - 1) {
    const message = `${field === 'q' ? 'dates in q' : field} must be a real date as YYYY-MM-DD, got "${value}"`;
    throw AppException.validation(message, [{ field, message }]);
  }
  return date;
}

/**
 * Splits `q` into search text and inline operators (`in:#name`, `from:@user`, `mentions:@user`,
 * `has:voice`, `before:YYYY-MM-DD`, `after:YYYY-MM-DD`). Operators inside quotes are words;
 * `word:` followed by `//` is a URL, not an operator. Anything else shaped `name:value` is refused,
 * so a typo does not silently turn into a text search.
 */
export function parseSearchQuery(raw: string): ParsedQuery {
  const q = raw.trim();
  if (q.length === 0) throw invalid('q must not be empty');
  if (q.length > SEARCH_QUERY_MAX_LENGTH) throw invalid(`q must be at most ${SEARCH_QUERY_MAX_LENGTH} characters`);
  if ((q.match(/"/g) ?? []).length % 2 === 1) throw invalid('q has an unclosed quote');

  const parsed: ParsedQuery = { text: '' };
  const text: string[] = [];
  // A token is a quoted phrase (kept whole) or a run of non-space characters.
  for (const token of q.match(/-?"[^"]*"|\S+/g) ?? []) {
    const operator = /^([A-Za-z]+):(.*)$/s.exec(token);
    if (!operator || token.startsWith('"') || operator[2].startsWith('//')) {
      text.push(token);
      continue;
    }
    const name = operator[1].toLowerCase() as (typeof OPERATORS)[number];
    const value = operator[2];
    if (!OPERATORS.includes(name)) {
      throw invalid(`unknown filter "${operator[1]}:"; use in:#channel, from:@user, mentions:@user, has:voice, before:YYYY-MM-DD or after:YYYY-MM-DD`);
    }
    if (value.length === 0) throw invalid(`${name}: needs a value`);
    switch (name) {
      case 'in':
        parsed.channelName = value.replace(/^#/, '');
        break;
      case 'from':
        parsed.from = value.replace(/^@/, '');
        break;
      case 'mentions':
        parsed.mentions = value.replace(/^@/, '');
        break;
      case 'has':
        if (value.toLowerCase() !== 'voice') throw invalid(`has: supports only has:voice, got "has:${value}"`);
        parsed.hasVoice = true;
        break;
      case 'before':
        parsed.before = parseDay(value);
        break;
      case 'after':
        parsed.after = parseDay(value);
        break;
    }
  }
  parsed.text = text.join(' ');
  return parsed;
}
