import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { AppConfigService } from '../config/app-config.service';
import { REDIS } from '../redis/redis.module';
import { APPEND_SCRIPT, CLOSE_SCRIPT, OPEN_SCRIPT, UNLOCK_SCRIPT } from './recording-scripts';

/**
 * Redis keys of one live recording; the hash tag keeps them in one cluster slot for the Lua scripts.
 * - stream: the chunks in index order (`i`, `d`), then an `end` entry; what listeners and the final file read
 * - meta: hash of speaker, channel, state (recording|ended), next index to relay, bytes so far, start time
 * - held: chunks that arrived ahead of a missing one, by index, until the gap fills
 * - alive: exists while chunks keep coming (PX = VOICE_ABANDON_MS); its absence marks an abandoned recording
 * - lock: the one process finalizing the recording
 */
export const recordingKeys = (voiceId: string) => {
  const base = `voice:live:{${voiceId}}`;
  return { stream: base, meta: `${base}:meta`, held: `${base}:held`, alive: `${base}:alive`, lock: `${base}:lock` };
};

/** After the end, late listeners still read the stream for this long (then the stored file serves them). */
const ENDED_TTL_MS = 3600_000;
export const FINALIZE_LOCK_MS = 30_000;
/** Chunks are produced in real time, so wall-clock time bounds the duration; this covers network delay. */
const DURATION_SLACK_MS = 10_000;

/** What never changes about a recording: who speaks, where. */
export interface Recording {
  voiceId: string;
  messageId: string;
  channelId: string;
  workspaceId: string;
  speakerId: string;
}

export type AppendRefusal = 'duplicate' | 'missing' | 'ended' | 'not_speaker' | 'too_large' | 'too_long';
/** `relay`: the chunks that became contiguous with this one, in index order (possibly none). */
export type AppendResult = { status: 'ok'; relay: { index: number; data: Buffer }[] } | { status: AppendRefusal };

/** One stream entry: a chunk, or the end marker. */
export type StreamEntry = { id: string; data: Buffer } | { id: string; end: true };

type LiveRedis = Redis & {
  voiceOpen(meta: string, alive: string, ...args: (string | number)[]): Promise<number>;
  voiceAppendBuffer(meta: string, held: string, stream: string, alive: string, ...args: (string | number | Buffer)[]): Promise<(Buffer | number)[]>;
  voiceClose(stream: string, meta: string, held: string, alive: string, ttlMs: number): Promise<number>;
  voiceUnlock(lock: string, token: string): Promise<number>;
};

/**
 * Live recordings in Redis, so any node may take a chunk, relay it, serve the recording over HTTP or
 * finalize it. The Lua scripts make each step atomic across nodes.
 */
@Injectable()
export class RecordingStore {
  private readonly redis: LiveRedis;

  constructor(
    @Inject(REDIS) redis: Redis,
    private readonly config: AppConfigService,
  ) {
    // defineCommand is idempotent per name; the scripts run by EVALSHA after the first call.
    redis.defineCommand('voiceOpen', { numberOfKeys: 2, lua: OPEN_SCRIPT });
    redis.defineCommand('voiceAppend', { numberOfKeys: 4, lua: APPEND_SCRIPT });
    redis.defineCommand('voiceClose', { numberOfKeys: 4, lua: CLOSE_SCRIPT });
    redis.defineCommand('voiceUnlock', { numberOfKeys: 1, lua: UNLOCK_SCRIPT });
    this.redis = redis as LiveRedis;
  }

  /** Creates the recording's meta once: a retried voice:start never resets a recording in progress. */
  async open(recording: Recording): Promise<boolean> {
    const k = recordingKeys(recording.voiceId);
    const opened = await this.redis.voiceOpen(
      k.meta,
      k.alive,
      recording.speakerId,
      recording.channelId,
      recording.messageId,
      recording.workspaceId,
      this.liveTtlMs(),
      this.config.get('VOICE_ABANDON_MS'),
    );
    return opened === 1;
  }

  /** Stores chunk `index` of the speaker `userId` and moves every chunk now contiguous into the stream. */
  async append(voiceId: string, userId: string, index: number, data: Buffer): Promise<AppendResult> {
    const k = recordingKeys(voiceId);
    const reply = await this.redis.voiceAppendBuffer(
      k.meta,
      k.held,
      k.stream,
      k.alive,
      userId,
      String(index),
      data,
      this.config.get('VOICE_MAX_BYTES'),
      this.config.get('VOICE_MAX_SECONDS') * 1000 + DURATION_SLACK_MS,
      this.liveTtlMs(),
      this.config.get('VOICE_ABANDON_MS'),
    );
    const status = String(reply[0]);
    if (status !== 'ok') return { status: status as AppendRefusal };
    const relay: { index: number; data: Buffer }[] = [];
    for (let i = 1; i < reply.length; i += 2) relay.push({ index: Number(reply[i]), data: reply[i + 1] as Buffer });
    return { status: 'ok', relay };
  }

  /** How many chunks are in the stream (contiguous from 0), and the state (null: no such recording). */
  async progress(voiceId: string): Promise<{ received: number; state: 'recording' | 'ended' | null }> {
    const [next, state] = await this.redis.hmget(recordingKeys(voiceId).meta, 'next', 'state');
    return { received: Number(next ?? 0), state: state as 'recording' | 'ended' | null };
  }

  /** False once no chunk came for VOICE_ABANDON_MS (on any node). */
  async isAlive(voiceId: string): Promise<boolean> {
    return (await this.redis.exists(recordingKeys(voiceId).alive)) === 1;
  }

  /** The speaker is still there (waiting in voice:end): the sweeper must not take the recording as abandoned. */
  async keepAlive(voiceId: string): Promise<void> {
    await this.redis.pexpire(recordingKeys(voiceId).alive, this.config.get('VOICE_ABANDON_MS'));
  }

  /** From here on chunks are refused (`ended`); the stream keeps what it holds. */
  async stopAccepting(voiceId: string): Promise<void> {
    await this.redis.hset(recordingKeys(voiceId).meta, 'state', 'ended');
  }

  /** The first `limit` chunks of the stream (default: all), in index order. */
  async chunks(voiceId: string, limit?: number): Promise<Buffer[]> {
    const entries = (await this.redis.xrangeBuffer(recordingKeys(voiceId).stream, '-', '+')) as [Buffer, Buffer[]][];
    const parts: Buffer[] = [];
    for (const [, fields] of entries) {
      const data = fields[0]?.toString() === 'i' ? fields[3] : undefined;
      if (data && (limit === undefined || parts.length < limit)) parts.push(data);
    }
    return parts;
  }

  /** Stream entries after `afterId` ('0-0': from the start), without blocking (no connection of its own). */
  async read(voiceId: string, afterId: string, count = 256): Promise<StreamEntry[]> {
    const reply = (await this.redis.xreadBuffer('COUNT', count, 'STREAMS', recordingKeys(voiceId).stream, afterId)) as
      | [Buffer, [Buffer, Buffer[]][]][]
      | null;
    const entries: StreamEntry[] = [];
    for (const [id, fields] of reply?.[0]?.[1] ?? []) {
      const entry = new Map<string, Buffer>();
      for (let i = 0; i + 1 < fields.length; i += 2) entry.set(fields[i].toString(), fields[i + 1]);
      const data = entry.get('d');
      if (entry.has('end')) entries.push({ id: id.toString(), end: true });
      else if (data) entries.push({ id: id.toString(), data });
    }
    return entries;
  }

  /** Writes the end marker once and lets the recording's keys expire (listeners may still read it a while). */
  async close(voiceId: string): Promise<void> {
    const k = recordingKeys(voiceId);
    await this.redis.voiceClose(k.stream, k.meta, k.held, k.alive, ENDED_TTL_MS);
  }

  /** The finalize lock: a token when this process holds it, null when another one does. */
  async lock(voiceId: string): Promise<string | null> {
    const token = randomUUID();
    const locked = await this.redis.set(recordingKeys(voiceId).lock, token, 'PX', FINALIZE_LOCK_MS, 'NX');
    return locked ? token : null;
  }

  /** Releases the lock only if `token` still holds it. */
  async unlock(voiceId: string, token: string): Promise<void> {
    await this.redis.voiceUnlock(recordingKeys(voiceId).lock, token);
  }

  /** Upper bound of a recording's life: keys of a recording nobody finalizes still expire. */
  liveTtlMs(): number {
    return (
      this.config.get('VOICE_MAX_SECONDS') * 1000 + DURATION_SLACK_MS + this.config.get('VOICE_ABANDON_MS') + ENDED_TTL_MS
    );
  }
}
