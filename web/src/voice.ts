import { PigeonError, type Message, type PigeonApi, type PigeonClient, type VoiceChunkEvent } from './pigeon';

/** What `voice:start` declares; the server compares it as a string on this branch, so no spacing variants. */
export const LIVE_MIME = 'audio/webm;codecs=opus';
/** MediaRecorder timeslice: chunks stream every 250 ms while the speaker holds the button. */
export const TIMESLICE_MS = 250;

const RETRYABLE = new Set(['DISCONNECTED', 'TIMEOUT', 'CLIENT_CLOSED', 'RATE_LIMITED', 'INTERNAL']);

function waitReady(client: PigeonClient): Promise<void> {
  if (client.isReady) return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a socket request, waiting out drops and retrying (every voice request is idempotent). */
async function retrying<T>(client: PigeonClient, run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await waitReady(client);
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof PigeonError) || !RETRYABLE.has(error.code) || attempt > 20) throw error;
      await sleep(error.retryAfterMs ?? Math.min(2000, 100 * 2 ** attempt));
    }
  }
}

export function microphoneMessage(error: unknown): string {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'Microphone access is blocked. Allow it in the browser’s site settings to talk.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found. Connect one and try again.';
  if (name === 'NotReadableError') return 'The microphone is in use by another application.';
  return `Could not start recording: ${error instanceof Error ? error.message : String(error)}`;
}

export interface RecordingResult {
  message: Message | null;
  notice: string | null;
}

/**
 * One hold-to-talk recording: MediaRecorder slices are kept locally and streamed in order as
 * `voice:chunk` while recording. A dropped socket makes the server finalize from what arrived;
 * then the whole recording (kept here) is uploaded instead, so nothing spoken is lost.
 */
export class LiveRecording {
  private recorder?: MediaRecorder;
  private stream?: MediaStream;
  private readonly chunks: ArrayBuffer[] = [];
  private sent = 0;
  private voiceId?: string;
  private message?: Message;
  private pumping?: Promise<void>;
  private truncated = false;
  /** Chunks were refused FLOOR_NOT_HELD: the server finalized the message; nothing more is sent. */
  private floorLost = false;
  private startedAt = 0;
  private stopped?: Promise<void>;
  private readonly clientMsgId = `v-${crypto.randomUUID()}`;
  /** Wall-clock time the first slice was recorded (the e2e suite's live-latency start). */
  firstChunkAt = 0;

  constructor(
    private readonly api: PigeonApi,
    private readonly client: PigeonClient,
    private readonly workspaceId: string,
    private readonly channelId: string,
    private readonly topicId: string | undefined,
  ) {}

  async start(): Promise<void> {
    if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) throw new Error('This browser cannot record audio.');
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const mimeType = MediaRecorder.isTypeSupported(LIVE_MIME) ? LIVE_MIME : undefined;
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : undefined);
    const recorder = this.recorder;
    let pendingReads = Promise.resolve();
    this.stopped = new Promise((resolve) => (recorder.onstop = () => void pendingReads.then(() => resolve())));
    recorder.ondataavailable = (event) => {
      if (event.data.size === 0) return;
      // Blob reads are async; chain them so chunk order is the recording order.
      pendingReads = pendingReads.then(async () => {
        this.chunks.push(await event.data.arrayBuffer());
        if (!this.firstChunkAt) this.firstChunkAt = Date.now();
        this.pump();
      });
    };
    recorder.start(TIMESLICE_MS);
    this.startedAt = performance.now();
    const topicId = this.topicId;
    this.message = await retrying(this.client, () =>
      this.client.startVoice({ channelId: this.channelId, mimeType: LIVE_MIME, clientMsgId: this.clientMsgId, ...(topicId ? { topicId } : {}) }),
    );
    this.voiceId = this.message.voice?.id;
    this.pump();
  }

  private pump(): void {
    if (!this.voiceId || this.pumping || this.truncated || this.floorLost) return;
    this.pumping = this.sendPending(this.voiceId)
      .catch((error: unknown) => {
        console.warn('voice: live send failed, the recording will be uploaded whole', error);
        this.truncated = true;
      })
      .finally(() => {
        this.pumping = undefined;
        // Slices recorded while the last send was in flight.
        if (this.sent < this.chunks.length) this.pump();
      });
  }

  private async sendPending(voiceId: string): Promise<void> {
    // Yield first, so `pumping` is set before the loop can finish.
    await Promise.resolve();
    while (this.sent < this.chunks.length && !this.truncated && !this.floorLost) {
      const index = this.sent;
      try {
        await retrying(this.client, () => this.client.sendVoiceChunk(voiceId, index, this.chunks[index]));
        this.sent++;
      } catch (error) {
        // CONFLICT: the server already finalized (our socket dropped); the rest goes by upload.
        if (error instanceof PigeonError && error.code === 'CONFLICT') this.truncated = true;
        // Push-to-talk: the floor was taken (revoked, pre-empted); the server ended the message with what it got.
        else if (error instanceof PigeonError && error.code === 'FLOOR_NOT_HELD') this.floorLost = true;
        else throw error;
      }
    }
  }

  /** Stops the microphone and finalizes; never throws away what was recorded. */
  async stop(): Promise<RecordingResult> {
    const durationMs = Math.round(performance.now() - this.startedAt);
    if (this.recorder && this.recorder.state !== 'inactive') this.recorder.stop();
    await this.stopped;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    if (this.chunks.length === 0) return { message: null, notice: 'Nothing was recorded.' };
    this.pump();
    while (this.pumping) await this.pumping.catch(() => undefined);
    if (this.floorLost) return { message: this.message ?? null, notice: 'You lost the floor; what you said until then was sent.' };
    if (this.voiceId && !this.truncated && this.sent === this.chunks.length) {
      try {
        const ended = await retrying(this.client, () => this.client.endVoice(this.voiceId!, this.chunks.length, durationMs));
        if (ended.voice?.status !== 'failed') return { message: ended, notice: null };
      } catch {
        this.truncated = true;
      }
    }
    return this.uploadWhole();
  }

  /** The live path broke: upload the full recording, then remove the partial live message. */
  private async uploadWhole(): Promise<RecordingResult> {
    const blob = new Blob(this.chunks, { type: 'audio/webm' });
    for (let attempt = 0; ; attempt++) {
      try {
        await waitReady(this.client);
        const message = await this.api.voice.upload(this.workspaceId, this.channelId, { file: blob, clientMsgId: `${this.clientMsgId}-u`, topicId: this.topicId });
        if (this.message) await this.client.deleteMessage(this.message.id).catch(() => undefined);
        return { message, notice: 'The connection dropped while you were talking; your whole message was sent once it came back.' };
      } catch (error) {
        if (attempt > 10 || (error instanceof PigeonError && !RETRYABLE.has(error.code) && error.code !== 'CONNECT_FAILED' && error.code !== 'HTTP_ERROR')) {
          return { message: null, notice: `Your recording could not be sent: ${error instanceof Error ? error.message : String(error)}` };
        }
        await sleep(1000);
      }
    }
  }
}

/**
 * Plays a recording while it is spoken: relayed chunks (index order; chunk 0 holds the WebM header)
 * are appended to a MediaSource. Without MediaSource support for the type, or when chunk 0 was
 * missed, the message plays once ready instead.
 */
export class LivePlayer {
  readonly audio = document.createElement('audio');
  private source?: SourceBuffer;
  private readonly queue: ArrayBuffer[] = [];
  private next = 0;
  private readonly early = new Map<number, ArrayBuffer>();
  private ended = false;
  firstPlayedAt = 0;
  firstChunkAt = 0;

  static supported(): boolean {
    return typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(LIVE_MIME);
  }

  constructor(
    readonly messageId: string,
    container: HTMLElement,
  ) {
    const media = new MediaSource();
    this.audio.src = URL.createObjectURL(media);
    this.audio.dataset.liveVoice = messageId;
    this.audio.setAttribute('aria-label', 'Live voice message');
    container.appendChild(this.audio);
    media.addEventListener('sourceopen', () => {
      this.source = media.addSourceBuffer(LIVE_MIME);
      this.source.mode = 'sequence';
      this.source.addEventListener('updateend', () => this.feed(media));
      this.feed(media);
    });
    this.audio.addEventListener('timeupdate', () => {
      if (!this.firstPlayedAt && this.audio.currentTime > 0) this.firstPlayedAt = Date.now();
    });
    this.media = media;
  }

  private readonly media: MediaSource;

  push(event: VoiceChunkEvent): void {
    if (!this.firstChunkAt) this.firstChunkAt = Date.now();
    const data = event.data instanceof ArrayBuffer ? event.data : (event.data.buffer.slice(event.data.byteOffset, event.data.byteOffset + event.data.byteLength) as ArrayBuffer);
    this.early.set(event.index, data);
    while (this.early.has(this.next)) {
      this.queue.push(this.early.get(this.next)!);
      this.early.delete(this.next++);
    }
    this.feed(this.media);
  }

  end(): void {
    this.ended = true;
    this.feed(this.media);
  }

  private feed(media: MediaSource): void {
    const source = this.source;
    if (!source || source.updating || media.readyState !== 'open') return;
    const data = this.queue.shift();
    if (data) {
      source.appendBuffer(data);
      if (this.audio.paused) void this.audio.play().catch(() => undefined);
    } else if (this.ended) media.endOfStream();
  }

  dispose(): void {
    this.audio.pause();
    URL.revokeObjectURL(this.audio.src);
    this.audio.remove();
  }
}

type PlaybackListener = () => void;

/** One player for recorded messages, so "play unheard" and single replays never talk over each other. */
export class Playback {
  readonly audio = document.createElement('audio');
  current: string | null = null;
  speed = Number(localStorage.getItem('pigeon.speed') ?? '1') || 1;
  private queue: Message[] = [];
  private readonly listeners = new Set<PlaybackListener>();

  constructor(
    private readonly api: PigeonApi,
    private readonly onFinished: (message: Message) => void,
    container: HTMLElement,
  ) {
    this.audio.dataset.playback = 'true';
    this.audio.setAttribute('aria-label', 'Voice message player');
    container.appendChild(this.audio);
    this.audio.addEventListener('ended', () => {
      const finished = this.playing;
      this.playing = null;
      this.current = null;
      if (finished) this.onFinished(finished);
      const next = this.queue.shift();
      if (next) void this.play(next, false);
      else this.emit();
    });
    for (const type of ['play', 'pause', 'timeupdate']) this.audio.addEventListener(type, () => this.emit());
  }

  private playing: Message | null = null;

  subscribe(listener: PlaybackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  setSpeed(speed: number): void {
    this.speed = speed;
    localStorage.setItem('pigeon.speed', String(speed));
    this.audio.playbackRate = speed;
    this.emit();
  }

  async play(message: Message, clearQueue = true): Promise<void> {
    if (clearQueue) this.queue = [];
    if (this.current === message.id && !this.audio.paused) {
      this.audio.pause();
      return;
    }
    if (this.current === message.id && this.audio.paused && this.audio.currentTime > 0) {
      await this.audio.play();
      return;
    }
    if (!message.voice?.url) return;
    // Message views carry the plain audio path (it needs the bearer token, which <audio> cannot send);
    // GET /api/voice/:id answers a URL signed for this member, valid a few minutes.
    const url = (await this.api.voice.get(message.voice.id)).url;
    if (!url) return;
    this.current = message.id;
    this.playing = message;
    this.audio.src = this.api.voice.audioUrl(url);
    this.audio.playbackRate = this.speed;
    this.emit();
    await this.audio.play().catch(() => undefined);
  }

  playAll(messages: Message[]): void {
    const [first, ...rest] = messages;
    if (!first) return;
    void this.play(first).then(() => (this.queue = rest));
  }

  progress(messageId: string): number {
    if (this.current !== messageId || !this.audio.duration || !Number.isFinite(this.audio.duration)) return 0;
    return this.audio.currentTime / this.audio.duration;
  }
}
