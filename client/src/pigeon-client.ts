import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { backoffDelay, DEFAULT_BACKOFF, hintedReconnectDelay, isFinalErrorCode, retryDelay, type BackoffOptions } from './backoff';
import { ChannelSequencer, DEFAULT_GAP_WINDOW_MS, type Gap } from './channel-sequencer';
import { connectErrorToPigeonError, PigeonError } from './errors';
import { TypedEmitter } from './typed-emitter';
import type {
  Ack,
  AuthExpiringEvent,
  ErrorBody,
  EventEnvelope,
  Message,
  PresenceEvent,
  PresenceStatus,
  ReadEvent,
  ReadyPayload,
  RequestEvent,
  RequestMap,
  SendMessageInput,
  SyncRequest,
  SyncResponse,
  TypingEvent,
  VoiceChunkEvent,
  VoiceListenedEvent,
  FloorEvent,
  VoiceMimeType,
} from './types';

export interface SendOptions {
  /** Attempts in all, the first included. Default: unlimited (bounded by `deadlineMs`, if any). */
  maxAttempts?: number;
  /** Give up after this long, waiting for a connection included. Default: no deadline. */
  deadlineMs?: number;
  /** How long one attempt waits for its ack. Default: the client's `requestTimeoutMs`. */
  attemptTimeoutMs?: number;
}

export interface RequestOptions {
  /** How long to wait for the ack. Default: the client's `requestTimeoutMs`. */
  timeoutMs?: number;
}

export interface PigeonClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:3000`; the namespace is appended. */
  url: string;
  /**
   * The access token, or a function that returns a fresh one (e.g. `() => api.accessToken()`).
   * A function is asked on every (re)connect and on `auth:expiring`, so the socket stays
   * authenticated across renewals.
   */
  token?: string | (() => Promise<string>);
  /** Called on every (re)connect and on `auth:expiring`; should return a fresh access token. */
  getToken?: () => Promise<string>;
  /** Default `/rt`. */
  namespace?: string;
  /** Default `['websocket']`. */
  transports?: ('websocket' | 'polling' | 'webtransport')[];
  /** Seqs the app already holds, by channel id; delivery resumes after them. */
  resumeFrom?: Record<string, number>;
  /** Channels new to the client start at seq 0 (full history) rather than at the current head. */
  replayFromStart?: boolean;
  /** Catch up every known channel on each `ready`. Default true. */
  autoSyncOnReady?: boolean;
  /** Backoff for send retries, sync retries and socket reconnection. */
  backoff?: Partial<BackoffOptions>;
  /** Ack timeout of a single request. Default 10 s. */
  requestTimeoutMs?: number;
  /** How long `connect()` waits for `ready` once the socket is connected. Default 10 s. */
  readyTimeoutMs?: number;
  /** Defaults for `send`. */
  send?: SendOptions;
  /** How long a seq hole may stay open before it is repaired with `sync`. Default 200 ms. */
  gapWindowMs?: number;
  /** `limit` of each `sync` call (events per channel per page). Default: the server's. */
  syncPageSize?: number;
  /** Channels per `sync` call when catching up after `ready`. Default 100. */
  syncBatchSize?: number;
  /** Reconnect by itself when the server closes the socket (e.g. at token expiry). Default true. */
  reconnectOnServerDisconnect?: boolean;
  /** Passed to `io()` last, so it can override anything above. */
  ioOptions?: Partial<ManagerOptions & SocketOptions>;
}

/** Events the client emits to the app. */
export interface PigeonClientEvents {
  /** Durable channel changes: in seq order and exactly once per channel. */
  event: (event: EventEnvelope) => void;
  typing: (event: TypingEvent) => void;
  presence: (event: PresenceEvent) => void;
  read: (event: ReadEvent) => void;
  'voice:chunk': (event: VoiceChunkEvent) => void;
  'voice:listened': (event: VoiceListenedEvent) => void;
  /** Push-to-talk floor of a `ptt` channel after every change; keep the highest `rev` per channel. */
  floor: (event: FloorEvent) => void;
  'auth:expiring': (event: AuthExpiringEvent) => void;
  /** Every `ready`, the first and those after reconnects. */
  ready: (payload: ReadyPayload) => void;
  /** A `ready` after the first one: the session came back and is being caught up. */
  reconnect: (payload: ReadyPayload) => void;
  /** Every disconnect, `disconnect()` included (reason `io client disconnect`). */
  disconnect: (reason: string) => void;
  /** A `send` attempt failed and will be retried after `delayMs` (the server's `retryAfterMs` when rate limited). */
  retry: (info: RetryInfo) => void;
  /** The server refused a send with RATE_LIMITED; it is retried after `retryAfterMs`. Also reported as `retry`. */
  'rate-limited': (info: RetryInfo) => void;
  /** Diagnostic: a seq hole that did not fill by itself and is being repaired. */
  gap: (gap: Gap) => void;
  /** Background failures (sync, token refresh, refused reconnect, a throwing listener). */
  error: (error: Error) => void;
}

export interface RetryInfo {
  event: 'message:send';
  clientMsgId: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  code: string;
  delayMs: number;
  retryAfterMs?: number;
}

type ConnectionState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

const DISCONNECTED_MESSAGE = 'socket has been disconnected';

export class PigeonClient extends TypedEmitter<PigeonClientEvents> {
  /** Exposed for diagnostics and tests; the client feeds it, the app should not. */
  readonly sequencer: ChannelSequencer<EventEnvelope>;

  private readonly options: PigeonClientOptions;
  private readonly backoff: BackoffOptions;
  private readonly requestTimeoutMs: number;
  private currentSocket?: Socket;
  private state: ConnectionState = 'idle';
  /** Why the client is closed (manual disconnect or a refused reconnect), for waiting senders. */
  private closedReason?: PigeonError;
  private lastReady?: ReadyPayload;
  private readyCount = 0;
  private pendingConnect?: { resolve: (payload: ReadyPayload) => void; reject: (error: Error) => void };
  private connectPromise?: Promise<ReadyPayload>;
  private readyTimer?: ReturnType<typeof setTimeout>;
  private serverDisconnects = 0;
  /** Requests awaiting their ack, and who waits for that to reach 0 (a `server:shutdown`). */
  private inFlight = 0;
  private readonly socketIdleWaiters = new Set<() => void>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly readyWaiters = new Set<Waiter>();
  private readonly closeListeners = new Set<(error: Error) => void>();
  private readonly headSeqs = new Map<string, number>();
  /** Channels with a sync in flight; a second request for one of them is folded into a re-run. */
  private readonly syncingChannels = new Set<string>();
  private readonly resyncChannels = new Set<string>();
  private readonly syncRuns = new Set<Promise<void>>();
  private readonly repairAttempts = new Map<string, number>();

  constructor(options: PigeonClientOptions) {
    super((error, event) => this.reportListenerError(error, String(event)));
    if (!options.url) throw new TypeError('PigeonClient: url is required');
    if (options.token === undefined && options.getToken === undefined) {
      throw new TypeError('PigeonClient: token or getToken is required');
    }
    this.options = options;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.sequencer = new ChannelSequencer<EventEnvelope>({
      deliver: (event) => this.emit('event', event),
      onGap: (gap) => this.handleGap(gap),
      gapWindowMs: options.gapWindowMs ?? DEFAULT_GAP_WINDOW_MS,
    });
    for (const [channelId, seq] of Object.entries(options.resumeFrom ?? {})) this.sequencer.track(channelId, seq);
  }

  /** The underlying socket, for tests and advanced use; undefined before `connect()`. */
  get socket(): Socket | undefined {
    return this.currentSocket;
  }

  /** True between a `ready` and the next disconnect. */
  get isReady(): boolean {
    return this.state === 'ready';
  }

  get userId(): string | undefined {
    return this.lastReady?.userId;
  }

  /** The latest `ready` payload. */
  get readyPayload(): ReadyPayload | undefined {
    return this.lastReady;
  }

  /**
   * Opens the socket and resolves with the first `ready`. Rejects with a PigeonError whose `code` is
   * the server's refusal code (`UNAUTHORIZED`, `FORBIDDEN`), `CONNECT_FAILED` when the server could
   * not be reached, or `TIMEOUT` when `ready` did not follow; the client is then closed again.
   */
  connect(): Promise<ReadyPayload> {
    if (this.state === 'ready' && this.lastReady) return Promise.resolve(this.lastReady);
    if (this.connectPromise) return this.connectPromise;
    this.closedReason = undefined;
    this.state = 'connecting';
    const promise = new Promise<ReadyPayload>((resolve, reject) => {
      this.pendingConnect = { resolve, reject };
    });
    this.connectPromise = promise;
    const socket = this.currentSocket ?? this.createSocket();
    socket.connect();
    return promise;
  }

  /**
   * Closes the socket and emits `disconnect`. Sends still retrying reject with `CLIENT_CLOSED`
   * (carrying their `clientMsgId`, so they can be resent later without duplicates). Channel
   * positions are kept: a later `connect()` opens a new socket and resumes after them.
   */
  disconnect(): void {
    this.close(new PigeonError('CLIENT_CLOSED', 'client disconnected'));
  }

  /** The last delivered seq of each tracked channel, e.g. to persist and pass as `resumeFrom`. */
  positions(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const channelId of this.sequencer.channels()) result[channelId] = this.sequencer.lastDelivered(channelId) ?? 0;
    return result;
  }

  lastSeq(channelId: string): number | undefined {
    return this.sequencer.lastDelivered(channelId);
  }

  /**
   * Follows a channel from `afterSeq` (e.g. one joined over REST after `ready`); when connected,
   * catches it up at once. A channel already tracked only moves forward.
   */
  trackChannel(channelId: string, afterSeq = 0): void {
    this.sequencer.track(channelId, afterSeq);
    if (this.state === 'ready') this.startSync([channelId]);
  }

  /** Stops following a channel (e.g. after leaving it). */
  untrackChannel(channelId: string): void {
    this.sequencer.forget(channelId);
    this.headSeqs.delete(channelId);
    this.repairAttempts.delete(channelId);
  }

  /** Resolves once every catch-up and repair sync started so far has finished. */
  async synced(): Promise<void> {
    while (this.syncRuns.size > 0) await Promise.allSettled([...this.syncRuns]);
  }

  /**
   * Sends a message and resolves with it once the server has stored it. Retries with the same
   * `clientMsgId` on timeouts, disconnects, rate limits and server errors (the server makes that
   * idempotent), and rejects at once on a final error code.
   */
  async send(input: SendMessageInput, options: SendOptions = {}): Promise<Message> {
    const clientMsgId = input.clientMsgId ?? crypto.randomUUID();
    const payload: RequestMap['message:send']['payload'] = { channelId: input.channelId, clientMsgId, body: input.body };
    if (input.topicId !== undefined) payload.topicId = input.topicId;
    if (input.replyToId !== undefined) payload.replyToId = input.replyToId;
    const settings = { ...this.options.send, ...options };
    const maxAttempts = settings.maxAttempts ?? Infinity;
    const deadline = settings.deadlineMs === undefined ? Infinity : Date.now() + settings.deadlineMs;
    const attemptTimeoutMs = settings.attemptTimeoutMs ?? this.requestTimeoutMs;
    const fail = (error: PigeonError): PigeonError => {
      error.clientMsgId = clientMsgId;
      return error;
    };

    for (let attempt = 1; ; attempt++) {
      try {
        await this.waitUntilReady(deadline);
      } catch (error) {
        throw fail(toPigeonError(error));
      }
      try {
        const timeoutMs = Math.max(1, Math.min(attemptTimeoutMs, deadline - Date.now()));
        return await this.request('message:send', payload, { timeoutMs });
      } catch (error) {
        const failure = toPigeonError(error);
        if (isFinalErrorCode(failure.code) || attempt >= maxAttempts) throw fail(failure);
        // After a dropped socket the wait for the next `ready` is the backoff; Socket.IO spaces reconnects.
        const delay = failure.code === 'DISCONNECTED' ? 0 : retryDelay(attempt - 1, failure, this.backoff);
        if (Date.now() + delay >= deadline) {
          throw fail(new PigeonError('DEADLINE_EXCEEDED', `send deadline exceeded; last error ${failure.code}: ${failure.message}`));
        }
        const info: RetryInfo = { event: 'message:send', clientMsgId, attempt, code: failure.code, delayMs: delay };
        if (failure.retryAfterMs !== undefined) info.retryAfterMs = failure.retryAfterMs;
        // The app can show "waiting N s" instead of a send that looks stuck.
        if (failure.code === 'RATE_LIMITED') this.emit('rate-limited', info);
        this.emit('retry', info);
        try {
          await this.sleep(delay);
        } catch (sleepError) {
          throw fail(toPigeonError(sleepError));
        }
      }
    }
  }

  /**
   * Emits one client-to-server event and waits for its ack: resolves with `data`, or throws a
   * PigeonError with the server's code, `TIMEOUT`, `DISCONNECTED` or `CLIENT_CLOSED`. No retries.
   */
  request<K extends RequestEvent>(event: K, payload: RequestMap[K]['payload'], options?: RequestOptions): Promise<RequestMap[K]['data']>;
  request<T = unknown>(event: string, payload: unknown, options?: RequestOptions): Promise<T>;
  async request(event: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    const socket = this.currentSocket;
    if (!socket || this.state === 'closed' || this.state === 'idle') {
      throw this.closedReason ?? new PigeonError('CLIENT_CLOSED', 'client is not connected; call connect() first');
    }
    let ack: unknown;
    this.inFlight++;
    try {
      ack = await socket.timeout(options.timeoutMs ?? this.requestTimeoutMs).emitWithAck(event, payload);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message === DISCONNECTED_MESSAGE) throw new PigeonError('DISCONNECTED', `${event}: socket disconnected before the ack`);
      throw new PigeonError('TIMEOUT', `${event}: no ack within ${options.timeoutMs ?? this.requestTimeoutMs} ms`);
    } finally {
      if (--this.inFlight === 0) for (const waiter of [...this.socketIdleWaiters]) waiter();
    }
    return unwrapAck(event, ack);
  }

  editMessage(messageId: string, body: string, options?: RequestOptions): Promise<Message> {
    return this.request('message:edit', { messageId, body }, options);
  }

  deleteMessage(messageId: string, options?: RequestOptions): Promise<{ id: string }> {
    return this.request('message:delete', { messageId }, options);
  }

  async addReaction(messageId: string, emoji: string, options?: RequestOptions): Promise<void> {
    await this.request('reaction:add', { messageId, emoji }, options);
  }

  async removeReaction(messageId: string, emoji: string, options?: RequestOptions): Promise<void> {
    await this.request('reaction:remove', { messageId, emoji }, options);
  }

  /** Marks the channel read up to `seq`; resolves with the stored mark (it never moves backwards). */
  async channelRead(channelId: string, seq: number, options?: RequestOptions): Promise<number> {
    const data = await this.request('channel:read', { channelId, seq }, options);
    return data.lastReadSeq;
  }

  async typing(channelId: string, topicId?: string, options?: RequestOptions): Promise<void> {
    await this.request('typing', topicId === undefined ? { channelId } : { channelId, topicId }, options);
  }

  async setPresence(status: PresenceStatus, options?: RequestOptions): Promise<void> {
    await this.request('presence:set', { status }, options);
  }

  /**
   * One raw `sync` call. Its events are returned, not delivered as `event`s; use `syncChannel` to
   * catch a channel up through the ordered stream.
   */
  sync(request: SyncRequest, options?: RequestOptions): Promise<SyncResponse> {
    return this.request('sync', request, options);
  }

  /** Catches a tracked (or, if new, fully replayed) channel up through the ordered `event` stream. */
  async syncChannel(channelId: string): Promise<void> {
    if (!this.sequencer.isTracked(channelId)) this.sequencer.track(channelId, 0);
    await this.runSync([channelId], { throwOnError: true });
  }

  startVoice(
    input: { channelId: string; mimeType: VoiceMimeType; topicId?: string; clientMsgId?: string },
    options?: RequestOptions,
  ): Promise<Message> {
    const payload: RequestMap['voice:start']['payload'] = {
      channelId: input.channelId,
      clientMsgId: input.clientMsgId ?? crypto.randomUUID(),
      mimeType: input.mimeType,
    };
    if (input.topicId !== undefined) payload.topicId = input.topicId;
    return this.request('voice:start', payload, options);
  }

  sendVoiceChunk(voiceId: string, index: number, data: ArrayBuffer | Uint8Array, options?: RequestOptions): Promise<{ index: number; duplicate: boolean }> {
    return this.request('voice:chunk', { voiceId, index, data }, options);
  }

  endVoice(voiceId: string, chunks: number, durationMs: number, options?: RequestOptions): Promise<Message> {
    return this.request('voice:end', { voiceId, chunks, durationMs }, options);
  }

  async voiceListened(messageId: string, options?: RequestOptions): Promise<void> {
    await this.request('voice:listened', { messageId }, options);
  }

  /** Sends a fresh token from `getToken` over `auth:refresh`; done by itself on `auth:expiring`. */
  async refreshAuth(): Promise<{ expiresAt: string }> {
    const token = await this.resolveToken();
    return this.request('auth:refresh', { token });
  }

  // ---------------------------------------------------------------- socket lifecycle

  private createSocket(): Socket {
    const base = this.options.url.replace(/\/+$/, '');
    const socket = io(`${base}${this.options.namespace ?? '/rt'}`, {
      autoConnect: false,
      transports: this.options.transports ?? ['websocket'],
      // A function, so every reconnect asks getToken again rather than reusing an expired token.
      auth: (callback: (data: object) => void) => {
        this.resolveToken().then(
          (token) => callback({ token }),
          (error: unknown) => {
            this.emitError(toError(error));
            callback({ token: '' });
          },
        );
      },
      reconnection: true,
      reconnectionDelay: this.backoff.initialDelayMs,
      reconnectionDelayMax: this.backoff.maxDelayMs,
      randomizationFactor: this.backoff.jitter,
      ...this.options.ioOptions,
    });

    socket.on('connect', () => this.handleConnect());
    socket.on('connect_error', (error: Error) => this.handleConnectError(socket, error));
    socket.on('disconnect', (reason: string) => this.handleDisconnect(socket, reason));
    socket.on('ready', (payload: ReadyPayload) => this.handleReady(payload));
    socket.on('event', (event: EventEnvelope) => this.handleLiveEvent(event));
    socket.on('typing', (event: TypingEvent) => this.emit('typing', event));
    socket.on('presence', (event: PresenceEvent) => this.emit('presence', event));
    socket.on('read', (event: ReadEvent) => this.emit('read', event));
    socket.on('voice:chunk', (event: VoiceChunkEvent) => this.emit('voice:chunk', event));
    socket.on('voice:listened', (event: VoiceListenedEvent) => this.emit('voice:listened', event));
    socket.on('floor', (event: FloorEvent) => this.emit('floor', event));
    socket.on('auth:expiring', (event: AuthExpiringEvent) => void this.handleAuthExpiring(event));
    socket.on('server:shutdown', () => this.handleServerShutdown(socket));
    this.currentSocket = socket;
    return socket;
  }

  private handleConnect(): void {
    this.clearReadyTimer();
    const timeoutMs = this.options.readyTimeoutMs ?? 10_000;
    this.readyTimer = setTimeout(() => {
      this.readyTimer = undefined;
      const error = new PigeonError('TIMEOUT', `no ready within ${timeoutMs} ms of connecting`);
      if (this.pendingConnect) {
        this.close(error);
      } else {
        // A session without `ready` is useless: drop it; handleDisconnect schedules the reconnect.
        this.emitError(error);
        this.currentSocket?.disconnect();
      }
    }, timeoutMs);
  }

  private handleConnectError(socket: Socket, rawError: Error): void {
    const error = connectErrorToPigeonError(rawError);
    // A saturated node asks us to come back later: that is waiting, not failure, even for the first connect.
    if (error.code === 'RATE_LIMITED' && error.retryAfterMs !== undefined && !socket.active) {
      this.emitError(error);
      this.scheduleReconnect(socket, error.retryAfterMs);
      return;
    }
    if (this.pendingConnect) {
      this.close(error);
      return;
    }
    // Socket.IO retries transport failures by itself; a middleware refusal leaves the socket inactive.
    if (socket.active) return;
    this.emitError(error);
    if (isFinalErrorCode(error.code)) {
      this.close(error);
    } else {
      this.scheduleReconnect(socket, error.code === 'RATE_LIMITED' ? error.retryAfterMs : undefined);
    }
  }

  private handleDisconnect(socket: Socket, reason: string): void {
    this.clearReadyTimer();
    if (this.state === 'closed') return;
    this.state = 'reconnecting';
    this.emit('disconnect', reason);
    // The server closed the socket (e.g. at token expiry); Socket.IO leaves that to us.
    if (!socket.active && (this.options.reconnectOnServerDisconnect ?? true)) this.scheduleReconnect(socket);
  }

  /**
   * The node is shutting down (a deploy): new requests wait for the next `ready`, the ones already
   * sent get their acks, then the socket reconnects at once, which lands on another node.
   */
  private handleServerShutdown(socket: Socket): void {
    if (this.state !== 'ready' || this.currentSocket !== socket) return;
    this.state = 'reconnecting';
    const reconnect = () => {
      clearTimeout(fallback);
      this.socketIdleWaiters.delete(reconnect);
      if (this.currentSocket !== socket || this.state === 'closed' || !socket.connected) return;
      socket.disconnect();
      socket.connect();
    };
    // The server closes a socket that is still busy near its deadline anyway; this is the client's own bound.
    const fallback = setTimeout(reconnect, 5000);
    if (this.inFlight === 0) reconnect();
    else this.socketIdleWaiters.add(reconnect);
  }

  private scheduleReconnect(socket: Socket, retryAfterMs?: number): void {
    const attempt = this.serverDisconnects++;
    const delay = retryAfterMs !== undefined ? hintedReconnectDelay(retryAfterMs) : backoffDelay(attempt, this.backoff);
    this.setTimer(() => {
      if (this.state !== 'closed' && this.currentSocket === socket && !socket.active) socket.connect();
    }, delay);
  }

  private handleReady(payload: ReadyPayload): void {
    this.clearReadyTimer();
    if (this.state === 'closed') return;
    this.lastReady = payload;
    this.readyCount += 1;
    this.serverDisconnects = 0;
    this.state = 'ready';

    const behind: string[] = [];
    for (const workspace of payload.workspaces ?? []) {
      for (const channel of workspace.channels ?? []) {
        this.headSeqs.set(channel.id, channel.headSeq);
        // A channel new to the app starts at the head: history is the app's choice (REST), not a flood.
        if (!this.sequencer.isTracked(channel.id)) this.sequencer.track(channel.id, this.options.replayFromStart ? 0 : channel.headSeq);
        if (channel.headSeq > (this.sequencer.lastDelivered(channel.id) ?? 0)) behind.push(channel.id);
      }
    }

    const pending = this.pendingConnect;
    this.pendingConnect = undefined;
    this.connectPromise = undefined;
    if (this.readyCount > 1) this.emit('reconnect', payload);
    this.emit('ready', payload);
    pending?.resolve(payload);
    for (const waiter of [...this.readyWaiters]) waiter.resolve();
    if ((this.options.autoSyncOnReady ?? true) && behind.length > 0) this.startSync(behind);
  }

  private handleLiveEvent(event: EventEnvelope): void {
    if (!event || typeof event.channelId !== 'string' || !Number.isInteger(event.seq)) {
      this.emitError(new PigeonError('VALIDATION', 'malformed event from server'));
      return;
    }
    // A channel joined after `ready`: nothing to resume from, so follow it from this event on.
    if (!this.sequencer.isTracked(event.channelId)) {
      this.sequencer.track(event.channelId, this.options.replayFromStart ? 0 : event.seq - 1);
    }
    const head = this.headSeqs.get(event.channelId) ?? 0;
    if (event.seq > head) this.headSeqs.set(event.channelId, event.seq);
    this.sequencer.push(event);
  }

  private handleGap(gap: Gap): void {
    this.emit('gap', gap);
    // While disconnected the next `ready` catches the channel up; no point queueing a request now.
    if (this.state === 'ready') this.startSync([gap.channelId]);
  }

  private async handleAuthExpiring(event: AuthExpiringEvent): Promise<void> {
    this.emit('auth:expiring', event);
    if (!this.tokenProvider()) return;
    try {
      await this.refreshAuth();
    } catch (error) {
      this.emitError(toError(error));
    }
  }

  private close(reason: PigeonError): void {
    const socket = this.currentSocket;
    const pending = this.pendingConnect;
    // The socket's own `disconnect` is unhooked below, so the app hears about the close here.
    const wasOpen = this.state === 'ready' || (socket?.connected ?? false);
    this.state = 'closed';
    this.closedReason = reason;
    this.pendingConnect = undefined;
    this.connectPromise = undefined;
    this.clearReadyTimer();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.sequencer.dispose();
    this.currentSocket = undefined;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
    for (const waiter of [...this.readyWaiters]) waiter.reject(reason);
    for (const listener of [...this.closeListeners]) listener(reason);
    this.closeListeners.clear();
    pending?.reject(reason);
    if (wasOpen) this.emit('disconnect', reason.code === 'CLIENT_CLOSED' ? 'io client disconnect' : reason.code);
  }

  // ---------------------------------------------------------------- sync

  /** Starts a background catch-up; failures go to `error` and are retried while connected. */
  private startSync(channelIds: string[]): void {
    void this.runSync(channelIds, { throwOnError: false });
  }

  private runSync(channelIds: string[], options: { throwOnError: boolean }): Promise<void> {
    const fresh: string[] = [];
    for (const channelId of new Set(channelIds)) {
      if (this.syncingChannels.has(channelId)) this.resyncChannels.add(channelId);
      else fresh.push(channelId);
    }
    if (fresh.length === 0) return this.synced();
    for (const channelId of fresh) this.syncingChannels.add(channelId);
    const run = this.syncLoop(fresh).then(
      () => this.afterSync(fresh),
      (error: unknown) => {
        this.afterSync(fresh, toPigeonError(error));
        if (options.throwOnError) throw error;
        this.emitError(toError(error));
      },
    );
    const tracked = run.catch(() => undefined);
    this.syncRuns.add(tracked);
    void tracked.finally(() => this.syncRuns.delete(tracked));
    return run;
  }

  /**
   * Pages through `sync` until no channel has more, feeding every event to the sequencer (which
   * drops what was already delivered live). Throws the first final refusal once the other channels
   * are done, or at once on a retryable failure.
   */
  private async syncLoop(channelIds: string[]): Promise<void> {
    const batchSize = Math.max(1, this.options.syncBatchSize ?? 100);
    const refusals: PigeonError[] = [];
    let pending = channelIds.filter((channelId) => this.sequencer.isTracked(channelId));
    while (pending.length > 0) {
      const next: string[] = [];
      for (let start = 0; start < pending.length; start += batchSize) {
        next.push(...(await this.syncBatch(pending.slice(start, start + batchSize), refusals)));
      }
      pending = next;
    }
    if (refusals.length > 0) throw refusals[0];
  }

  /**
   * One page for a batch. A batch refused with a final code (a channel the user lost access to)
   * is retried channel by channel, so that one channel does not hold the others back.
   */
  private async syncBatch(channelIds: string[], refusals: PigeonError[]): Promise<string[]> {
    try {
      return await this.syncPage(channelIds);
    } catch (error) {
      const failure = toPigeonError(error);
      if (!isFinalErrorCode(failure.code)) throw failure;
      if (channelIds.length === 1) {
        refusals.push(failure);
        return [];
      }
      const more: string[] = [];
      for (const channelId of channelIds) more.push(...(await this.syncBatch([channelId], refusals)));
      return more;
    }
  }

  /** One `sync` call; returns the channels that have more to fetch and made progress. */
  private async syncPage(channelIds: string[]): Promise<string[]> {
    const request: SyncRequest = {
      channels: channelIds.map((channelId) => ({ channelId, afterSeq: this.sequencer.lastDelivered(channelId) ?? 0 })),
    };
    if (this.options.syncPageSize !== undefined) request.limit = this.options.syncPageSize;
    const before = new Map(request.channels.map((entry) => [entry.channelId, entry.afterSeq]));
    const response = await this.request('sync', request);
    const more: string[] = [];
    for (const result of response.channels ?? []) {
      if (!this.sequencer.isTracked(result.channelId)) continue;
      const head = this.headSeqs.get(result.channelId) ?? 0;
      if (result.headSeq > head) this.headSeqs.set(result.channelId, result.headSeq);
      const events = (result.events ?? []).map((event) => (event.channelId ? event : { ...event, channelId: result.channelId }));
      const afterSeq = before.get(result.channelId) ?? 0;
      // The server returns every visible event after afterSeq (guarantee 3), so a page that starts
      // later says the seqs in between are not ours to see; waiting for them would stall the channel.
      if (events.length > 0 && events[0].seq > afterSeq + 1) this.sequencer.track(result.channelId, events[0].seq - 1);
      for (const event of events) this.sequencer.push(event);
      const progressed = (this.sequencer.lastDelivered(result.channelId) ?? 0) > (before.get(result.channelId) ?? 0);
      // Without progress another page would ask for the same thing forever; an empty page with more
      // to come is a channel the server's per-call event budget did not reach (it answers in order).
      if (result.hasMore && (progressed || events.length === 0)) more.push(result.channelId);
    }
    return more;
  }

  /**
   * Releases the channels and schedules another pass for those still behind: a hole reported
   * during the run, or a retryable failure. Final refusals are not retried (they went to `error`);
   * while disconnected nothing is scheduled, since the next `ready` catches up every channel.
   */
  private afterSync(channelIds: string[], failure?: PigeonError): void {
    const again: string[] = [];
    for (const channelId of channelIds) {
      this.syncingChannels.delete(channelId);
      const rerunRequested = this.resyncChannels.delete(channelId);
      if (!this.sequencer.isTracked(channelId)) continue;
      const retryable = failure !== undefined && !isFinalErrorCode(failure.code);
      if (retryable || rerunRequested || this.sequencer.gap(channelId) !== undefined) again.push(channelId);
      else this.repairAttempts.delete(channelId);
    }
    if (again.length === 0 || this.state !== 'ready') return;
    const attempt = Math.max(...again.map((channelId) => this.repairAttempts.get(channelId) ?? 0));
    for (const channelId of again) this.repairAttempts.set(channelId, attempt + 1);
    // The first re-run after a success is immediate (a hole reported mid-run); repeats back off.
    const delay = failure ? retryDelay(attempt, failure, this.backoff) : attempt === 0 ? 0 : backoffDelay(attempt - 1, this.backoff);
    this.setTimer(() => {
      if (this.state === 'ready') this.startSync(again);
    }, delay);
  }

  // ---------------------------------------------------------------- helpers

  private resolveToken(): Promise<string> {
    const provider = this.tokenProvider();
    if (provider) return provider();
    return Promise.resolve(typeof this.options.token === 'string' ? this.options.token : '');
  }

  private tokenProvider(): (() => Promise<string>) | undefined {
    if (this.options.getToken) return this.options.getToken;
    return typeof this.options.token === 'function' ? this.options.token : undefined;
  }

  /** Resolves when the client is ready; rejects when it is closed or the deadline passes. */
  private waitUntilReady(deadline: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'closed' || this.state === 'idle') {
      return Promise.reject(this.closedReason ?? new PigeonError('CLIENT_CLOSED', 'client is not connected; call connect() first'));
    }
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        resolve: () => {
          this.readyWaiters.delete(waiter);
          if (timer) clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          this.readyWaiters.delete(waiter);
          if (timer) clearTimeout(timer);
          reject(error);
        },
      };
      if (deadline !== Infinity) {
        timer = setTimeout(() => waiter.reject(new PigeonError('DEADLINE_EXCEEDED', 'not connected before the deadline')), Math.max(0, deadline - Date.now()));
      }
      this.readyWaiters.add(waiter);
    });
  }

  /** A delay that closing the client cuts short with its reason. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onClose = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      const timer = setTimeout(() => {
        this.closeListeners.delete(onClose);
        resolve();
      }, ms);
      this.closeListeners.add(onClose);
    });
  }

  private setTimer(callback: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms);
    this.timers.add(timer);
  }

  private clearReadyTimer(): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = undefined;
  }

  private emitError(error: Error): void {
    this.emit('error', error);
  }

  private reportListenerError(error: unknown, event: string): void {
    // An `error` listener that throws has nowhere left to report to; surface it like Node would.
    if (event === 'error') {
      setTimeout(() => {
        throw error;
      }, 0);
      return;
    }
    this.emitError(toError(error));
  }
}

function unwrapAck(event: string, ack: unknown): unknown {
  if (ack && typeof ack === 'object' && 'ok' in ack) {
    const typed = ack as Ack<unknown>;
    if (typed.ok === true) return typed.data;
    if (typed.ok === false && typed.error && typeof typed.error === 'object') {
      const body = typed.error as Partial<ErrorBody>;
      throw new PigeonError(body.code ?? 'INTERNAL', body.message ?? `${event} failed`, body.retryAfterMs, undefined, Array.isArray(body.details) ? body.details : undefined);
    }
  }
  throw new PigeonError('INTERNAL', `${event}: malformed ack from server`);
}

function toPigeonError(error: unknown): PigeonError {
  if (error instanceof PigeonError) return error;
  if (error instanceof Error) return new PigeonError('INTERNAL', error.message);
  return new PigeonError('INTERNAL', String(error));
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
