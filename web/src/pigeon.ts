/**
 * The one module through which the web app reaches the server. REST goes through `PigeonApi`, a
 * local stand-in with exactly the surface agreed for the SDK's PigeonApi (delete it and import the
 * SDK's at merge time); the socket is the SDK's PigeonClient.
 */
import { PigeonClient, PigeonError } from '@pigeon/client';
import type { Channel, Message, Role, Topic } from '@pigeon/client';

export { PigeonClient, PigeonError };
export type { Channel, EventEnvelope, Message, ReadEvent, Role, Topic, TypingEvent, PresenceEvent, VoiceChunkEvent } from '@pigeon/client';

export interface Session {
  accessToken: string;
  refreshToken: string;
}

export interface User {
  id: string;
  email: string;
  displayName: string;
}

export interface Workspace {
  id: string;
  name: string;
  slug: string;
  role?: Role;
}

export interface Member {
  userId: string;
  displayName: string;
  role: Role;
  presence: string;
}

export interface ChannelListItem extends Omit<Channel, 'name'> {
  name: string | null;
  lastReadSeq: number;
  unreadCount: number;
  isMember: boolean;
}

export interface MessagePage {
  messages: Message[];
  hasMore: boolean;
}

export interface PigeonApiOptions {
  baseUrl: string;
  session?: Session;
  onSession?: (session: Session | null) => void;
  fetch?: typeof fetch;
}

interface AuthAnswer extends Session {
  user: User;
}

type Query = Record<string, string | number | boolean | undefined>;

/** Seconds left before a JWT's `exp`; 0 when unreadable. */
function secondsLeft(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return (payload.exp ?? 0) - Date.now() / 1000;
  } catch {
    return 0;
  }
}

function errorFrom(status: number, body: unknown): PigeonError {
  const data = (body ?? {}) as { code?: string; message?: string | string[]; details?: unknown; retryAfterMs?: number };
  const message = Array.isArray(data.message) ? data.message.join(', ') : (data.message ?? `HTTP ${status}`);
  const error = new PigeonError(data.code ?? (status >= 500 ? 'INTERNAL' : 'HTTP_ERROR'), message, data.retryAfterMs);
  return Object.assign(error, { status, details: data.details });
}

/** Stand-in for the SDK's PigeonApi (same names and shapes). */
export class PigeonApi {
  private current: Session | null;
  private refreshing?: Promise<string>;
  private readonly baseUrl: string;
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: PigeonApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.current = options.session ?? null;
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  session(): Session | null {
    return this.current;
  }

  /** Adopts a session renewed elsewhere (another tab), so a spent refresh token is never reused. */
  adopt(session: Session | null): void {
    this.current = session;
  }

  /** A token valid for at least another minute, refreshing it first when needed. */
  async accessToken(): Promise<string> {
    if (!this.current) throw new PigeonError('UNAUTHORIZED', 'not signed in');
    if (secondsLeft(this.current.accessToken) > 60) return this.current.accessToken;
    return this.refresh();
  }

  private refresh(): Promise<string> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const run = async (): Promise<string> => {
      // Another tab may have renewed it while we waited for the lock: its session is in storage.
      this.syncFromStorage?.();
      const session = this.current;
      if (!session) throw new PigeonError('UNAUTHORIZED', 'not signed in');
      if (secondsLeft(session.accessToken) > 60) return session.accessToken;
      try {
        const next = await this.raw<Session>('POST', '/api/auth/refresh', { refreshToken: session.refreshToken }, undefined, false);
        this.setSession({ accessToken: next.accessToken, refreshToken: next.refreshToken });
        return next.accessToken;
      } catch (error) {
        if (error instanceof PigeonError && error.code === 'UNAUTHORIZED') this.setSession(null);
        throw error;
      }
    };
    // One refresh at a time across tabs: a refresh token can be spent only once.
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    return locks ? locks.request('pigeon-refresh', run) : run();
  }

  /** Set by the app: re-reads the session another tab may have stored. */
  syncFromStorage?: () => void;

  private setSession(session: Session | null): void {
    this.current = session;
    this.options.onSession?.(session);
  }

  private async raw<T>(method: string, path: string, body?: unknown, query?: Query, auth = true, form?: FormData): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = {};
    if (auth) headers.Authorization = `Bearer ${await this.accessToken()}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await this.fetcher(url, { method, headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!response.ok) throw errorFrom(response.status, parsed);
    return parsed as T;
  }

  private async call<T>(method: string, path: string, body?: unknown, query?: Query, form?: FormData): Promise<T> {
    try {
      return await this.raw<T>(method, path, body, query, true, form);
    } catch (error) {
      // An access token revoked or expired early: renew once and retry.
      if (!(error instanceof PigeonError) || error.code !== 'UNAUTHORIZED' || !this.current) throw error;
      await this.refresh();
      return this.raw<T>(method, path, body, query, true, form);
    }
  }

  private async signIn(path: string, body: unknown): Promise<AuthAnswer> {
    const answer = await this.raw<AuthAnswer>('POST', path, body, undefined, false);
    this.setSession({ accessToken: answer.accessToken, refreshToken: answer.refreshToken });
    return answer;
  }

  readonly auth = {
    register: (input: { email: string; password: string; displayName: string }) => this.signIn('/api/auth/register', input),
    login: (input: { email: string; password: string }) => this.signIn('/api/auth/login', input),
    logout: async (): Promise<void> => {
      const session = this.current;
      this.setSession(null);
      if (session) await this.raw('POST', '/api/auth/logout', { refreshToken: session.refreshToken }, undefined, false).catch(() => undefined);
    },
  };

  me(): Promise<User> {
    return this.call('GET', '/api/me');
  }

  readonly workspaces = {
    create: (input: { name: string; slug: string }) => this.call<Workspace>('POST', '/api/workspaces', input),
    list: () => this.call<Workspace[]>('GET', '/api/workspaces'),
    get: (wid: string) => this.call<Workspace>('GET', `/api/workspaces/${wid}`),
    members: (wid: string) => this.call<Member[]>('GET', `/api/workspaces/${wid}/members`),
    setRole: (wid: string, userId: string, role: Role) => this.call<Member>('PATCH', `/api/workspaces/${wid}/members/${userId}`, { role }),
    removeMember: (wid: string, userId: string) => this.call<void>('DELETE', `/api/workspaces/${wid}/members/${userId}`),
  };

  readonly invites = {
    create: (wid: string, input: { role?: 'member' | 'guest'; maxUses?: number; expiresInHours?: number } = {}) =>
      this.call<{ code: string; expiresAt: string; role: Role; maxUses: number | null }>('POST', `/api/workspaces/${wid}/invites`, input),
    accept: (code: string) => this.call<{ workspaceId: string; userId: string; role: Role }>('POST', `/api/invites/${encodeURIComponent(code)}/accept`),
    revoke: (wid: string, code: string) => this.call<void>('DELETE', `/api/workspaces/${wid}/invites/${encodeURIComponent(code)}`),
  };

  readonly channels = {
    create: (wid: string, input: { name: string; kind: 'public' | 'private'; memberIds?: string[] }) =>
      this.call<Channel>('POST', `/api/workspaces/${wid}/channels`, input),
    list: (wid: string) => this.call<ChannelListItem[]>('GET', `/api/workspaces/${wid}/channels`),
    join: (wid: string, cid: string) => this.call<unknown>('POST', `/api/workspaces/${wid}/channels/${cid}/join`),
    addMember: (wid: string, cid: string, userId: string) => this.call<unknown>('POST', `/api/workspaces/${wid}/channels/${cid}/members`, { userId }),
    removeMember: (wid: string, cid: string, userId: string) => this.call<void>('DELETE', `/api/workspaces/${wid}/channels/${cid}/members/${userId}`),
    openDm: (wid: string, userId: string) => this.call<Channel>('POST', `/api/workspaces/${wid}/dms`, { userIds: [userId] }),
  };

  readonly topics = {
    create: (wid: string, cid: string, input: { name: string }) => this.call<Topic>('POST', `/api/workspaces/${wid}/channels/${cid}/topics`, { title: input.name }),
    list: (wid: string, cid: string) => this.call<Topic[]>('GET', `/api/workspaces/${wid}/channels/${cid}/topics`),
  };

  readonly messages = {
    list: (wid: string, cid: string, query: { before?: number; limit?: number } = {}) =>
      this.call<MessagePage>('GET', `/api/workspaces/${wid}/channels/${cid}/messages`, undefined, query),
    history: (wid: string, cid: string, query: { limit?: number } = {}): AsyncIterable<Message> => {
      const list = this.messages.list;
      return {
        async *[Symbol.asyncIterator]() {
          let before: number | undefined;
          for (;;) {
            const page = await list(wid, cid, { before, limit: query.limit });
            for (let i = page.messages.length - 1; i >= 0; i--) yield page.messages[i];
            if (!page.hasMore || page.messages.length === 0) return;
            before = page.messages[0].seq;
          }
        },
      };
    },
    send: (wid: string, cid: string, input: { clientMsgId: string; body: string; topicId?: string; replyToId?: string }) =>
      this.call<Message>('POST', `/api/workspaces/${wid}/channels/${cid}/messages`, input),
    edit: (wid: string, cid: string, mid: string, body: string) => this.call<Message>('PATCH', `/api/workspaces/${wid}/channels/${cid}/messages/${mid}`, { body }),
    delete: (wid: string, cid: string, mid: string) => this.call<void>('DELETE', `/api/workspaces/${wid}/channels/${cid}/messages/${mid}`),
    react: (wid: string, cid: string, mid: string, emoji: string) =>
      this.call<void>('PUT', `/api/workspaces/${wid}/channels/${cid}/messages/${mid}/reactions/${encodeURIComponent(emoji)}`),
    unreact: (wid: string, cid: string, mid: string, emoji: string) =>
      this.call<void>('DELETE', `/api/workspaces/${wid}/channels/${cid}/messages/${mid}/reactions/${encodeURIComponent(emoji)}`),
    markRead: (wid: string, cid: string, seq: number) => this.call<{ lastReadSeq: number }>('PUT', `/api/workspaces/${wid}/channels/${cid}/read`, { seq }),
    events: (wid: string, cid: string, query: { after: number; limit?: number }) =>
      this.call<{ events: unknown[]; headSeq: number; hasMore: boolean }>('GET', `/api/workspaces/${wid}/channels/${cid}/events`, undefined, query),
  };

  readonly voice = {
    upload: async (wid: string, cid: string, input: { file: Blob; clientMsgId: string; topicId?: string }) => {
      const form = new FormData();
      form.set('clientMsgId', input.clientMsgId);
      if (input.topicId) form.set('topicId', input.topicId);
      form.set('file', input.file, 'voice.webm');
      return this.call<Message>('POST', `/api/workspaces/${wid}/channels/${cid}/voice`, undefined, undefined, form);
    },
    get: (voiceId: string) => this.call<NonNullable<Message['voice']> & { messageId: string; channelId: string }>('GET', `/api/voice/${voiceId}`),
    audioUrl: (voiceOrUrl: { url: string | null } | string): string => {
      const url = typeof voiceOrUrl === 'string' ? voiceOrUrl : (voiceOrUrl.url ?? '');
      return new URL(url, this.baseUrl + '/').toString();
    },
  };
}

const SESSION_KEY = 'pigeon.session';

function storedSession(): Session | null {
  try {
    const value = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return value && typeof value.accessToken === 'string' && typeof value.refreshToken === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** The app's API, its session kept in localStorage and shared by every tab of this browser. */
export function createApi(onSignedOut: () => void): PigeonApi {
  const api = new PigeonApi({
    baseUrl: location.origin,
    session: storedSession() ?? undefined,
    onSession: (session) => {
      if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
      else {
        localStorage.removeItem(SESSION_KEY);
        onSignedOut();
      }
    },
  });
  api.syncFromStorage = () => api.adopt(storedSession());
  window.addEventListener('storage', (event) => {
    if (event.key !== SESSION_KEY) return;
    const session = storedSession();
    api.adopt(session);
    if (!session) onSignedOut();
  });
  return api;
}

export function createSocket(api: PigeonApi): PigeonClient {
  return new PigeonClient({ url: location.origin, getToken: () => api.accessToken(), backoff: { initialDelayMs: 300, maxDelayMs: 3000 } });
}
