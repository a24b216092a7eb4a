import { PigeonError } from './errors';
import type {
  AuthResult,
  Channel,
  ChannelKind,
  ChannelListItem,
  ChannelMode,
  EventPage,
  FloorEvent,
  Invite,
  InviteAccepted,
  Member,
  Message,
  MessagePage,
  Role,
  TokenPair,
  Topic,
  User,
  Voice,
  VoiceDetails,
  VoiceListener,
  Workspace,
} from './types';
import { sendMultipart, type UploadSource } from './upload';

export type { UploadSource } from './upload';

/** The tokens PigeonApi keeps; hand them back through `session` to resume. */
export type Session = TokenPair;

export interface PigeonApiOptions {
  /** Server origin, e.g. `http://localhost:3000` (the `/api` prefix is added). */
  baseUrl: string;
  session?: Session | null;
  /** Called with the new pair after login, register and every refresh; with null after logout or a failed refresh. */
  onSession?: (session: Session | null) => void;
  /** Defaults to the global `fetch` (Node 20+, browsers). */
  fetch?: typeof fetch;
  /**
   * Refresh when the access token has less than this left (default 90 s, and at most 60 % of the
   * token's life): more than the 60 s of the socket's `auth:expiring`, so a token provider asked then
   * hands out a new token, not the expiring one.
   */
  refreshMarginMs?: number;
  /**
   * Runs each refresh. Apps with several tabs pass a cross-tab lock (e.g. `navigator.locks`) so that
   * only one tab spends the refresh token, which the server accepts once.
   */
  refreshGate?: <T>(refresh: () => Promise<T>) => Promise<T>;
  /**
   * Read inside the gate, before refreshing: a session that another tab already renewed (kept in
   * shared storage) is adopted instead of being refreshed again.
   */
  loadSession?: () => Session | null;
}

export interface UploadOptions {
  /** `total` is undefined for a stream of unknown length. */
  onProgress?: (sent: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

export interface WebhookCreated {
  id: string;
  secret: string;
  url: string;
  events: string[];
  createdAt: string;
}

export interface WebhookDelivery {
  id: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: { at: string; statusCode: number | null; error: string | null; durationMs: number | null }[];
  createdAt?: string;
  updatedAt?: string;
}

export interface PushSubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  expirationTime?: number | null;
}

interface RequestInit2 {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent without a bearer token (register, login, refresh, the VAPID key). */
  anonymous?: boolean;
}

const DEFAULT_REFRESH_MARGIN_MS = 90_000;

/** `exp` of a JWT in ms, or undefined when the token is not a readable JWT (then only a 401 refreshes). */
export function tokenExpiryMs(token: string): number | undefined {
  return tokenTimes(token)?.exp;
}

function tokenTimes(token: string): { exp: number; iat?: number } | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(json) as { exp?: unknown; iat?: unknown };
    if (typeof claims.exp !== 'number') return undefined;
    return { exp: claims.exp * 1000, iat: typeof claims.iat === 'number' ? claims.iat * 1000 : undefined };
  } catch {
    return undefined;
  }
}

/**
 * The REST side of Pigeon. Every method returns a Promise and rejects with a PigeonError. The
 * access token is refreshed shortly before it expires and once after a 401; concurrent callers
 * share one refresh (the server spends a refresh token on use, so two refreshes would log out).
 */
export class PigeonApi {
  readonly baseUrl: string;
  private current: Session | null;
  private refreshing: Promise<Session> | null = null;
  private readonly fetchImpl: typeof fetch;
  private readonly customFetch: boolean;
  private readonly onSession?: (session: Session | null) => void;
  private readonly refreshMarginMs: number;
  private readonly refreshGate?: <T>(refresh: () => Promise<T>) => Promise<T>;
  private readonly loadSession?: () => Session | null;

  constructor(options: PigeonApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.current = options.session ?? null;
    // Bound so a browser's window.fetch is not called with the wrong `this`.
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.customFetch = options.fetch !== undefined;
    this.onSession = options.onSession;
    this.refreshMarginMs = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    this.refreshGate = options.refreshGate;
    this.loadSession = options.loadSession;
  }

  session(): Session | null {
    return this.current ? { ...this.current } : null;
  }

  /** Takes a session renewed elsewhere (another tab) without calling the server or `onSession`. */
  adopt(session: Session | null): void {
    this.current = session ? { ...session } : null;
  }

  /** A fresh access token: refreshed first when it expires within the margin. */
  async accessToken(): Promise<string> {
    const session = this.current;
    if (!session) throw new PigeonError('UNAUTHORIZED', 'not logged in', undefined, 401);
    const times = tokenTimes(session.accessToken);
    if (times) {
      // Short-lived tokens (tests, strict deployments) would otherwise always be "near expiry".
      const margin = times.iat === undefined ? this.refreshMarginMs : Math.min(this.refreshMarginMs, (times.exp - times.iat) * 0.6);
      if (times.exp - Date.now() < margin) return (await this.refresh(session)).accessToken;
    }
    return session.accessToken;
  }

  /**
   * Spends the refresh token once for everyone waiting. `stale` is the session the caller saw:
   * when another call already replaced it, that result is used instead of refreshing again.
   */
  refresh(stale: Session | null = this.current): Promise<Session> {
    if (this.refreshing) return this.refreshing;
    if (this.current && stale && this.current.accessToken !== stale.accessToken) return Promise.resolve(this.current);
    const session = this.current;
    if (!session) return Promise.reject(new PigeonError('UNAUTHORIZED', 'not logged in', undefined, 401));
    const run = async (): Promise<Session> => {
      // Another tab may have renewed the session while this one waited for the gate.
      const shared = this.loadSession?.();
      if (shared && shared.accessToken !== session.accessToken) {
        this.current = { ...shared };
        return shared;
      }
      const pair = await this.send<TokenPair>('POST', '/auth/refresh', { body: { refreshToken: session.refreshToken }, anonymous: true });
      this.setSession({ accessToken: pair.accessToken, refreshToken: pair.refreshToken });
      return pair;
    };
    this.refreshing = (this.refreshGate ? this.refreshGate(run) : run())
      .catch((error: unknown) => {
        // A refused refresh token is final (spent or revoked family): the session is over.
        if (error instanceof PigeonError && error.status === 401) this.setSession(null);
        throw error;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  readonly auth = {
    register: async (input: { email: string; password: string; displayName: string }): Promise<AuthResult> =>
      this.start(await this.send<AuthResult>('POST', '/auth/register', { body: input, anonymous: true })),
    login: async (input: { email: string; password: string }): Promise<AuthResult> =>
      this.start(await this.send<AuthResult>('POST', '/auth/login', { body: input, anonymous: true })),
    /** Revokes the refresh token family on the server and forgets the session (also when the server call fails). */
    logout: async (): Promise<void> => {
      const session = this.current;
      this.setSession(null);
      if (session) await this.send<void>('POST', '/auth/logout', { body: { refreshToken: session.refreshToken }, anonymous: true });
    },
  };

  me(): Promise<User> {
    return this.call('GET', '/me');
  }

  readonly workspaces = {
    create: (input: { name: string; slug: string }): Promise<Workspace> => this.call('POST', '/workspaces', { body: input }),
    list: (): Promise<Workspace[]> => this.call('GET', '/workspaces'),
    get: (wid: string): Promise<Workspace> => this.call('GET', `/workspaces/${seg(wid)}`),
    members: (wid: string): Promise<Member[]> => this.call('GET', `/workspaces/${seg(wid)}/members`),
    setRole: (wid: string, userId: string, role: Role): Promise<Member> =>
      this.call('PATCH', `/workspaces/${seg(wid)}/members/${seg(userId)}`, { body: { role } }),
    removeMember: (wid: string, userId: string): Promise<void> => this.call('DELETE', `/workspaces/${seg(wid)}/members/${seg(userId)}`),
  };

  readonly invites = {
    create: (wid: string, input: { role?: 'member' | 'guest'; maxUses?: number; expiresInHours?: number } = {}): Promise<Invite> =>
      this.call('POST', `/workspaces/${seg(wid)}/invites`, { body: input }),
    accept: (code: string): Promise<InviteAccepted> => this.call('POST', `/invites/${seg(code)}/accept`),
    revoke: (wid: string, code: string): Promise<void> => this.call('DELETE', `/workspaces/${seg(wid)}/invites/${seg(code)}`),
  };

  readonly channels = {
    create: (wid: string, input: { name: string; kind: Exclude<ChannelKind, 'direct'>; memberIds?: string[] }): Promise<Channel> =>
      this.call('POST', `/workspaces/${seg(wid)}/channels`, { body: input }),
    list: (wid: string): Promise<ChannelListItem[]> => this.call('GET', `/workspaces/${seg(wid)}/channels`),
    join: (wid: string, cid: string): Promise<Channel> => this.call('POST', `/workspaces/${seg(wid)}/channels/${seg(cid)}/join`),
    addMember: (wid: string, cid: string, userId: string): Promise<unknown> =>
      this.call('POST', `/workspaces/${seg(wid)}/channels/${seg(cid)}/members`, { body: { userId } }),
    removeMember: (wid: string, cid: string, userId: string): Promise<void> =>
      this.call('DELETE', `/workspaces/${seg(wid)}/channels/${seg(cid)}/members/${seg(userId)}`),
    /** Owners/admins: `chat`, or `ptt` (push-to-talk floor). */
    setMode: (wid: string, cid: string, mode: ChannelMode): Promise<Channel> =>
      this.call('PATCH', `/workspaces/${seg(wid)}/channels/${seg(cid)}`, { body: { mode } }),
    /** The push-to-talk floor now (a `ptt` channel); later changes come as the socket's `floor` events. */
    floor: (wid: string, cid: string): Promise<FloorEvent> => this.call('GET', `/workspaces/${seg(wid)}/channels/${seg(cid)}/floor`),
    /** The direct channel with one person (or several); the same set always answers the same channel. */
    openDm: (wid: string, userId: string | string[]): Promise<Channel> =>
      this.call('POST', `/workspaces/${seg(wid)}/dms`, { body: { userIds: Array.isArray(userId) ? userId : [userId] } }),
  };

  readonly topics = {
    create: (wid: string, cid: string, input: { title: string }): Promise<Topic> =>
      this.call('POST', `/workspaces/${seg(wid)}/channels/${seg(cid)}/topics`, { body: input }),
    list: (wid: string, cid: string): Promise<Topic[]> => this.call('GET', `/workspaces/${seg(wid)}/channels/${seg(cid)}/topics`),
  };

  readonly messages = {
    /** One page in ascending seq; without `before`/`after`, the newest page. */
    /** `unheard: true`: only the caller's unheard voice messages, oldest first (page on with `after`). */
    list: (wid: string, cid: string, query: { before?: number; after?: number; limit?: number; topicId?: string; unheard?: boolean } = {}): Promise<MessagePage> =>
      this.call('GET', `${channelPath(wid, cid)}/messages`, { query }),
    /** Every message, newest first, fetching pages (`limit` each) as the loop goes on. */
    history: (wid: string, cid: string, query: { limit?: number; topicId?: string } = {}): AsyncIterable<Message> => {
      const list = this.messages.list;
      return {
        async *[Symbol.asyncIterator]() {
          let before: number | undefined;
          for (;;) {
            const page = await list(wid, cid, { ...query, before });
            for (let i = page.messages.length - 1; i >= 0; i--) yield page.messages[i];
            if (!page.hasMore || page.messages.length === 0) return;
            before = page.messages[0].seq;
          }
        },
      };
    },
    /** Idempotent on `clientMsgId`: resending the same id answers the first message. */
    send: (wid: string, cid: string, input: { clientMsgId: string; body: string; topicId?: string; replyToId?: string }): Promise<Message> =>
      this.call('POST', `${channelPath(wid, cid)}/messages`, { body: input }),
    edit: (wid: string, cid: string, mid: string, body: string): Promise<Message> =>
      this.call('PATCH', `${channelPath(wid, cid)}/messages/${seg(mid)}`, { body: { body } }),
    delete: (wid: string, cid: string, mid: string): Promise<void> => this.call('DELETE', `${channelPath(wid, cid)}/messages/${seg(mid)}`),
    react: (wid: string, cid: string, mid: string, emoji: string): Promise<void> =>
      this.call('PUT', `${channelPath(wid, cid)}/messages/${seg(mid)}/reactions/${seg(emoji)}`),
    unreact: (wid: string, cid: string, mid: string, emoji: string): Promise<void> =>
      this.call('DELETE', `${channelPath(wid, cid)}/messages/${seg(mid)}/reactions/${seg(emoji)}`),
    markRead: (wid: string, cid: string, seq: number): Promise<{ lastReadSeq: number }> =>
      this.call('PUT', `${channelPath(wid, cid)}/read`, { body: { seq } }),
    events: (wid: string, cid: string, query: { after: number; limit?: number }): Promise<EventPage> =>
      this.call('GET', `${channelPath(wid, cid)}/events`, { query }),
  };

  readonly voice = {
    /** Uploads a recorded clip (WebM, Ogg, MP4/M4A, WAV, MP3); answers the message with `voice.status = processing`. */
    upload: async (
      wid: string,
      cid: string,
      input: { file: UploadSource; clientMsgId: string; topicId?: string; filename?: string; mimeType?: string },
      options: UploadOptions = {},
    ): Promise<Message> => {
      const fields: Record<string, string> = { clientMsgId: input.clientMsgId };
      if (input.topicId) fields.topicId = input.topicId;
      const url = `${this.baseUrl}/api${channelPath(wid, cid)}/voice`;
      // A stream can be read only once, so only bytes and Blobs are resent after a 401.
      return this.withAuth(
        (token) =>
          sendMultipart(
            { url, token, fields, file: input.file, filename: input.filename ?? 'voice', mimeType: input.mimeType, onProgress: options.onProgress, signal: options.signal },
            this.fetchImpl,
            this.customFetch,
          ),
        isReplayable(input.file),
      );
    },
    get: (voiceId: string): Promise<VoiceDetails> => this.call('GET', `/voice/${seg(voiceId)}`),
    /** Who listened how far: the author and workspace owners/admins. */
    listeners: (voiceId: string): Promise<VoiceListener[]> => this.call('GET', `/voice/${seg(voiceId)}/listeners`),
    /** The absolute URL of a clip's audio (`voice.url` is a signed path, valid for 1 h; re-read `voice.get` after). */
    audioUrl: (voiceOrUrl: Voice | VoiceDetails | string, format?: 'opus' | 'aac'): string => {
      const path = typeof voiceOrUrl === 'string' ? voiceOrUrl : voiceOrUrl.url;
      if (!path) throw new PigeonError('NOT_FOUND', 'this voice message has no audio (failed)', undefined, 404);
      const url = new URL(path, `${this.baseUrl}/`);
      if (format) url.searchParams.set('format', format);
      return url.toString();
    },
  };

  readonly webhooks = {
    create: (wid: string, input: { url: string; events: string[] }): Promise<WebhookCreated> =>
      this.call('POST', `/workspaces/${seg(wid)}/webhooks`, { body: input }),
    list: (wid: string): Promise<Omit<WebhookCreated, 'secret'>[]> => this.call('GET', `/workspaces/${seg(wid)}/webhooks`),
    delete: (wid: string, id: string): Promise<void> => this.call('DELETE', `/workspaces/${seg(wid)}/webhooks/${seg(id)}`),
    deliveries: (wid: string, id: string): Promise<WebhookDelivery[]> => this.call('GET', `/workspaces/${seg(wid)}/webhooks/${seg(id)}/deliveries`),
  };

  readonly push = {
    vapidPublicKey: (): Promise<{ publicKey: string }> => this.send('GET', '/push/vapid-public-key', { anonymous: true }),
    subscribe: (subscription: PushSubscriptionInput): Promise<{ id: string; endpoint: string; expirationTime: number | null; createdAt: string }> =>
      this.call('POST', '/me/push-subscriptions', { body: subscription }),
    unsubscribe: (endpoint: string): Promise<void> => this.call('DELETE', '/me/push-subscriptions', { body: { endpoint } }),
  };

  /** An authenticated JSON call; public for endpoints the SDK does not wrap yet. */
  call<T>(method: string, path: string, init: Omit<RequestInit2, 'anonymous'> = {}): Promise<T> {
    return this.withAuth((token) => this.rawFetch(method, path, init, token));
  }

  private async withAuth<T>(attempt: (token: string) => Promise<Response>, replayable = true): Promise<T> {
    const token = await this.accessToken();
    const seen = this.current;
    let response = await this.guard(attempt(token));
    if (response.status === 401 && seen && replayable) {
      // Once: the token may have been revoked or expired early (clock skew); a second 401 is final.
      const fresh = await this.refresh(seen);
      response = await this.guard(attempt(fresh.accessToken));
    }
    return parse<T>(response);
  }

  /** A fetch that threw (no answer at all) as a PigeonError. */
  private async guard(pending: Promise<Response>): Promise<Response> {
    try {
      return await pending;
    } catch (error) {
      if (error instanceof PigeonError) throw error;
      if (error instanceof Error && error.name === 'AbortError') throw new PigeonError('ABORTED', error.message);
      throw new PigeonError('NETWORK', error instanceof Error ? error.message : String(error));
    }
  }

  private async send<T>(method: string, path: string, init: RequestInit2): Promise<T> {
    return parse<T>(await this.rawFetch(method, path, init, undefined));
  }

  private async rawFetch(method: string, path: string, init: RequestInit2, token: string | undefined): Promise<Response> {
    const url = new URL(`${this.baseUrl}/api${path}`);
    for (const [key, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return this.guard(this.fetchImpl(url.toString(), { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) }));
  }

  private start(result: AuthResult): AuthResult {
    this.setSession({ accessToken: result.accessToken, refreshToken: result.refreshToken });
    return result;
  }

  private setSession(session: Session | null): void {
    this.current = session;
    this.onSession?.(session ? { ...session } : null);
  }
}

function isReplayable(file: UploadSource): boolean {
  return (typeof Blob !== 'undefined' && file instanceof Blob) || file instanceof ArrayBuffer || ArrayBuffer.isView(file);
}

function seg(value: string): string {
  return encodeURIComponent(value);
}

function channelPath(wid: string, cid: string): string {
  return `/workspaces/${seg(wid)}/channels/${seg(cid)}`;
}

/** A 2xx body as T (204 and empty bodies as undefined); anything else as a PigeonError. */
async function parse<T>(response: Response): Promise<T> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.ok) {
    if (text && body === undefined) throw new PigeonError('BAD_RESPONSE', 'the server answered a body that is not JSON', undefined, response.status);
    return body as T;
  }
  throw PigeonError.fromResponse(response.status, body, response.headers.get('retry-after'));
}
