import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import { channelRoom, FanoutService, userRoom } from '../fanout/fanout.service';
import type { MessageView } from '../messages/message.view';
import { MessagesService } from '../messages/messages.service';
import { QUEUES, VOICE_TRANSCODE_JOB, VoiceTranscodeJob } from '../queues/queues';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { REDIS } from '../redis/redis.module';
import { sniffAudio } from './audio-sniff';
import type { VoiceChunkDto, VoiceEndDto, VoiceStartDto } from './dto/live-voice.dto';
import type { VoiceStatus } from './voice-clip.entity';
import { TRANSCODE_JOB_OPTIONS } from './voice.service';
import { VoiceStorage } from './voice-storage';
import { runAsSystem } from '../tenancy/tenant-context';

/**
 * Redis keys of one live recording; the hash tag keeps them in one cluster slot for the Lua scripts.
 * - stream: the chunks in index order (`i`, `d`), then an `end` entry; what listeners and the final file read
 * - meta: hash of speaker, channel, state (recording|ended), next index to relay, bytes so far, start time
 * - held: chunks that arrived ahead of a missing one, by index, until the gap fills
 * - alive: exists while chunks keep coming (PX = VOICE_ABANDON_MS); its absence marks an abandoned recording
 * - lock: the one process finalizing the recording
 */
const keys = (voiceId: string) => {
  const base = `voice:live:{${voiceId}}`;
  return { stream: base, meta: `${base}:meta`, held: `${base}:held`, alive: `${base}:alive`, lock: `${base}:lock` };
};

/** After the end, late listeners still read the stream for this long (then the stored file serves them). */
const ENDED_TTL_MS = 3600_000;
const FINALIZE_LOCK_MS = 30_000;
/** How long voice:end waits for chunks still in flight before naming the missing ones. */
const END_WAIT_MS = 2000;
/** Chunks are produced in real time, so wall-clock time bounds the duration; this covers network delay. */
const DURATION_SLACK_MS = 10_000;
const FOLLOW_POLL_MS = 100;
const SWEEP_BATCH = 100;
const RECORDING_CACHE_MAX = 10_000;

/** Creates the meta hash once (a retried voice:start must not reset a recording in progress). */
const OPEN_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = redis.call('TIME')
redis.call('HSET', KEYS[1], 'state', 'recording', 'userId', ARGV[1], 'channelId', ARGV[2], 'messageId', ARGV[3],
  'workspaceId', ARGV[4], 'next', 0, 'bytes', 0, 'startedAt', now[1] * 1000 + math.floor(now[2] / 1000))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[6])
return 1`;

/**
 * Stores one chunk and moves every chunk that is now contiguous into the stream, atomically, so any
 * node may receive a chunk and the stream is always in index order. Replies `{status}` or
 * `{'ok', index1, data1, index2, data2, ...}` with the chunks to relay, in order.
 * KEYS: meta, held, stream, alive. ARGV: userId, index, data, maxBytes, maxDurationMs, ttlMs, abandonMs.
 */
const APPEND_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
if redis.call('HGET', KEYS[1], 'userId') ~= ARGV[1] then return {'not_speaker'} end
if state ~= 'recording' then return {'ended'} end
local index = tonumber(ARGV[2])
local nextIndex = tonumber(redis.call('HGET', KEYS[1], 'next'))
if index < nextIndex or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return {'duplicate'} end
local now = redis.call('TIME')
local nowMs = now[1] * 1000 + math.floor(now[2] / 1000)
if nowMs - tonumber(redis.call('HGET', KEYS[1], 'startedAt')) > tonumber(ARGV[5]) then return {'too_long'} end
local bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes')) + string.len(ARGV[3])
if bytes > tonumber(ARGV[4]) then return {'too_large'} end
redis.call('HSET', KEYS[1], 'bytes', bytes)
redis.call('SET', KEYS[4], '1', 'PX', ARGV[7])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local reply = {'ok'}
while true do
  local data = redis.call('HGET', KEYS[2], tostring(nextIndex))
  if not data then break end
  redis.call('XADD', KEYS[3], '*', 'i', nextIndex, 'd', data)
  redis.call('HDEL', KEYS[2], tostring(nextIndex))
  table.insert(reply, nextIndex)
  table.insert(reply, data)
  nextIndex = nextIndex + 1
end
redis.call('PEXPIRE', KEYS[3], ARGV[6])
redis.call('HSET', KEYS[1], 'next', nextIndex)
return reply`;

/** Writes the end marker once and lets the recording's keys expire. KEYS: stream, meta, held, alive. */
const CLOSE_SCRIPT = `
if redis.call('HGET', KEYS[2], 'closed') ~= '1' then
  redis.call('XADD', KEYS[1], '*', 'end', '1')
  redis.call('HSET', KEYS[2], 'state', 'ended', 'closed', '1')
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3], KEYS[4])
return 1`;

/** Releases a lock only if this process still holds it. */
const UNLOCK_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type LiveRedis = Redis & {
  voiceOpen(meta: string, alive: string, ...args: (string | number)[]): Promise<number>;
  voiceAppendBuffer(
    meta: string,
    held: string,
    stream: string,
    alive: string,
    ...args: (string | number | Buffer)[]
  ): Promise<(Buffer | number)[]>;
  voiceClose(stream: string, meta: string, held: string, alive: string, ttlMs: number): Promise<number>;
  voiceUnlock(lock: string, token: string): Promise<number>;
};

/** What never changes about a recording: who speaks, where. */
interface Recording {
  voiceId: string;
  messageId: string;
  channelId: string;
  workspaceId: string;
  speakerId: string;
}

interface ClipRow {
  id: string;
  message_id: string;
  workspace_id: string;
  channel_id: string;
  status: VoiceStatus;
  mime_type: string | null;
  original_key: string | null;
  author_id: string;
}

/**
 * Live voice: a recording is a voice message in status `recording` whose chunks stream over the socket.
 * Chunks live in Redis (any node can relay them, serve them over HTTP, or finalize the recording); the
 * end (voice:end, the speaker leaving, or silence for VOICE_ABANDON_MS) concatenates them into the
 * original file and hands it to the same transcode job as an upload.
 */
@Injectable()
export class LiveVoiceService implements OnModuleDestroy {
  private readonly logger = new Logger(LiveVoiceService.name);
  private readonly redis: LiveRedis;
  /** Recordings by voice id (immutable facts, so caching is safe); bounded, oldest dropped first. */
  private readonly recordings = new Map<string, Recording>();
  /** This node's speaker sockets and the recordings they feed, to finalize on disconnect. */
  private readonly speakerSockets = new Map<string, Set<string>>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QUEUES.voice) private readonly queue: Queue<VoiceTranscodeJob>,
    @Inject(REDIS) redis: Redis,
    private readonly access: AccessService,
    private readonly messages: MessagesService,
    private readonly rateLimit: RateLimitService,
    private readonly fanout: FanoutService,
    private readonly storage: VoiceStorage,
    private readonly config: AppConfigService,
  ) {
    // defineCommand is idempotent per name; the scripts run by EVALSHA after the first call.
    redis.defineCommand('voiceOpen', { numberOfKeys: 2, lua: OPEN_SCRIPT });
    redis.defineCommand('voiceAppend', { numberOfKeys: 4, lua: APPEND_SCRIPT });
    redis.defineCommand('voiceClose', { numberOfKeys: 4, lua: CLOSE_SCRIPT });
    redis.defineCommand('voiceUnlock', { numberOfKeys: 1, lua: UNLOCK_SCRIPT });
    this.redis = redis as LiveRedis;
  }

  onModuleDestroy(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  // ---------------------------------------------------------------- socket events

  async start(userId: string, socketId: string, dto: VoiceStartDto): Promise<MessageView> {
    const access = await this.access.requireChannelMember(dto.channelId, userId);
    await this.rateLimit.consumeWrite(userId);
    // Each open recording may hold up to VOICE_MAX_BYTES in Redis: a user keeps only a few open.
    const [open]: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM voice_clips v JOIN messages m ON m.id = v.message_id
        WHERE v.status = 'recording' AND m.author_id = $1 AND m.client_msg_id <> $2`,
      [userId, dto.clientMsgId],
    );
    const maxOpen = this.config.get('OPEN_RECORDINGS_PER_USER_MAX');
    if (Number(open.n) >= maxOpen) {
      throw new AppException(ErrorCode.LIMIT_REACHED, `At most ${maxOpen} recordings may be open at once; end one first`);
    }
    const voiceId = randomUUID();
    const { message } = await this.messages.send(
      userId,
      {
        channelId: dto.channelId,
        clientMsgId: dto.clientMsgId,
        body: '',
        kind: 'voice',
        topicId: dto.topicId ?? null,
        // The clip is written in the message's transaction, so message.created already says `recording`.
        onCreated: (manager, row) =>
          manager.query(
            `INSERT INTO voice_clips (id, message_id, workspace_id, channel_id, status, mime_type, original_key)
             VALUES ($1, $2, $3, $4, 'recording', $5, $6)`,
            [
              voiceId,
              row.id,
              access.workspaceId,
              dto.channelId,
              dto.mimeType,
              `${access.workspaceId}/${voiceId}/original`,
            ],
          ),
      },
      access.workspaceId,
    );
    if (message.kind !== 'voice' || !message.voice)
      throw AppException.conflict('clientMsgId was already used for another message');
    if (message.voice.status === 'recording') {
      const recording: Recording = {
        voiceId: message.voice.id,
        messageId: message.id,
        channelId: message.channelId,
        workspaceId: message.workspaceId,
        speakerId: userId,
      };
      await this.open(recording);
      this.remember(recording);
      this.trackSpeaker(socketId, recording.voiceId);
    }
    return message;
  }

  async chunk(userId: string, socketId: string, dto: VoiceChunkDto): Promise<{ index: number; duplicate: boolean }> {
    const maxChunk = this.config.get('VOICE_CHUNK_MAX_BYTES');
    if (dto.data.length > maxChunk) {
      throw new AppException(ErrorCode.PAYLOAD_TOO_LARGE, `A chunk may hold at most ${maxChunk} bytes`);
    }
    const recording = await this.speakerRecording(userId, dto.voiceId);
    // Chunks are limited by bytes per user (all nodes), so live voice cannot flood the shared Redis.
    await this.rateLimit.consumeChunkBytes(userId, dto.data.length);
    const k = keys(dto.voiceId);
    const reply = await this.redis.voiceAppendBuffer(
      k.meta,
      k.held,
      k.stream,
      k.alive,
      userId,
      String(dto.index),
      dto.data,
      this.config.get('VOICE_MAX_BYTES'),
      this.config.get('VOICE_MAX_SECONDS') * 1000 + DURATION_SLACK_MS,
      this.liveTtlMs(),
      this.config.get('VOICE_ABANDON_MS'),
    );
    const status = String(reply[0]);
    switch (status) {
      case 'duplicate':
        return { index: dto.index, duplicate: true };
      case 'missing':
      case 'ended':
        throw AppException.conflict('The recording has ended');
      case 'not_speaker':
        throw AppException.forbidden('Only the speaker may send chunks');
      case 'too_large':
        throw new AppException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          `A voice message may hold at most ${this.config.get('VOICE_MAX_BYTES')} bytes`,
        );
      case 'too_long':
        throw new AppException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          `A voice message may last at most ${this.config.get('VOICE_MAX_SECONDS')} s`,
        );
    }
    this.trackSpeaker(socketId, dto.voiceId);
    // Emitted right after the script's reply, before any other await: this node relays in index order.
    for (let i = 1; i < reply.length; i += 2) {
      this.fanout.emit(
        channelRoom(recording.channelId),
        'voice:chunk',
        {
          voiceId: dto.voiceId,
          messageId: recording.messageId,
          channelId: recording.channelId,
          index: Number(reply[i]),
          data: reply[i + 1],
        },
        { except: userRoom(userId) },
      );
    }
    return { index: dto.index, duplicate: false };
  }

  async end(userId: string, dto: VoiceEndDto): Promise<MessageView> {
    const recording = await this.speakerRecording(userId, dto.voiceId);
    const clip = await this.clip(dto.voiceId);
    if (clip?.status === 'recording') {
      const k = keys(dto.voiceId);
      // Chunks sent just before voice:end may still be on their way (or waiting for a gap to fill).
      const deadline = Date.now() + END_WAIT_MS;
      let [next, state] = await this.redis.hmget(k.meta, 'next', 'state');
      while (Number(next) < dto.chunks && state === 'recording' && Date.now() < deadline) {
        await sleep(50);
        [next, state] = await this.redis.hmget(k.meta, 'next', 'state');
      }
      const received = Number(next ?? 0);
      if (state === 'recording' && received !== dto.chunks) {
        const message =
          received < dto.chunks
            ? `chunk ${received} is missing (chunks 0..${received - 1} arrived in order)`
            : `${received} chunks were received, more than chunks = ${dto.chunks}`;
        throw AppException.validation(message, [{ field: 'chunks', message }]);
      }
      if ((await this.finalize(dto.voiceId, dto.chunks)) === 'busy') await this.waitUntilFinal(dto.voiceId);
    }
    return this.messages.get(userId, recording.messageId);
  }

  async listened(userId: string, messageId: string): Promise<void> {
    const rows: { channel_id: string; kind: string; deleted_at: Date | null }[] = await this.dataSource.query(
      'SELECT channel_id, kind, deleted_at FROM messages WHERE id = $1',
      [messageId],
    );
    const message = rows[0];
    if (!message || message.kind !== 'voice' || message.deleted_at) throw AppException.notFound('Voice message');
    await this.access.requireChannelMember(message.channel_id, userId).catch(() => {
      throw AppException.notFound('Voice message');
    });
    const inserted: unknown[] = await this.dataSource.query(
      'INSERT INTO voice_listens (message_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING message_id',
      [messageId, userId],
    );
    // Only the first listen is news.
    if (inserted.length > 0) this.fanout.emit(channelRoom(message.channel_id), 'voice:listened', { messageId, userId });
  }

  /** The speaker's socket is gone: its recordings end with what arrived. */
  async speakerDisconnected(socketId: string): Promise<void> {
    const voiceIds = this.speakerSockets.get(socketId);
    if (!voiceIds) return;
    this.speakerSockets.delete(socketId);
    for (const voiceId of voiceIds) {
      await this.finalize(voiceId).catch((error: unknown) => {
        // The sweeper retries once the recording has been silent for VOICE_ABANDON_MS.
        this.logger.warn(`Finalizing ${voiceId} after disconnect failed: ${String(error)}`);
      });
    }
  }

  // ---------------------------------------------------------------- HTTP follow

  /**
   * The original bytes of a recording in progress: every chunk so far, then each new one, until the end
   * marker. Polls the stream (XREAD without BLOCK) on the shared connection, so a listener costs no
   * Redis connection of its own.
   */
  async *follow(voiceId: string): AsyncGenerator<Buffer> {
    const { stream } = keys(voiceId);
    const deadline = Date.now() + this.liveTtlMs();
    let lastId = '0-0';
    let lastCheck = Date.now();
    let finalRead = false;
    while (Date.now() < deadline) {
      const reply = (await this.redis.xreadBuffer('COUNT', 256, 'STREAMS', stream, lastId)) as
        [Buffer, [Buffer, Buffer[]][]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      for (const [id, fields] of entries) {
        lastId = id.toString();
        const entry = new Map<string, Buffer>();
        for (let i = 0; i + 1 < fields.length; i += 2) entry.set(fields[i].toString(), fields[i + 1]);
        if (entry.has('end')) return;
        const data = entry.get('d');
        if (data) yield data;
      }
      if (entries.length > 0) continue;
      if (finalRead) return;
      // A stream that lost its end marker (Redis restarted, keys expired) must not hold the response open.
      if (Date.now() - lastCheck > 2000) {
        lastCheck = Date.now();
        const clip = await this.clip(voiceId);
        if (clip?.status !== 'recording') finalRead = true;
        continue;
      }
      await sleep(FOLLOW_POLL_MS);
    }
  }

  // ---------------------------------------------------------------- finalizing

  /** API nodes only (called from the gateway's init): ends recordings whose speaker went silent or away. */
  startSweeper(): void {
    if (this.sweeper) return;
    const every = Math.min(10_000, Math.max(250, Math.floor(this.config.get('VOICE_ABANDON_MS') / 2)));
    this.sweeper = setInterval(() => {
      // Recordings of every workspace: a named cross-tenant scope.
      void runAsSystem('voice.sweeper', () => this.sweep()).catch((error: unknown) => this.logger.warn(`Voice sweep failed: ${String(error)}`));
    }, every);
    this.sweeper.unref();
  }

  /**
   * Recordings older than VOICE_ABANDON_MS whose `alive` key has expired (no chunk for that long, on any
   * node) are finalized; the lock makes one node do each. Works when the speaker's node was killed.
   */
  async sweep(): Promise<void> {
    const abandonMs = this.config.get('VOICE_ABANDON_MS');
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM voice_clips
        WHERE status = 'recording' AND created_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY created_at LIMIT $2`,
      [abandonMs, SWEEP_BATCH],
    );
    for (const { id } of rows) {
      if (await this.redis.exists(keys(id).alive)) continue;
      await this.finalize(id).catch((error: unknown) =>
        this.logger.warn(`Finalizing abandoned ${id} failed: ${String(error)}`),
      );
    }
  }

  /**
   * Ends a recording with its first `chunks` chunks (default: every contiguous one that arrived): the
   * concatenation becomes the original file, the clip turns `processing` with one message.updated, and
   * the transcode job is queued. Nothing received: `failed`. Idempotent; 'busy' if another process holds it.
   */
  async finalize(voiceId: string, chunks?: number): Promise<'done' | 'busy'> {
    const k = keys(voiceId);
    const token = randomUUID();
    if (!(await this.redis.set(k.lock, token, 'PX', FINALIZE_LOCK_MS, 'NX'))) return 'busy';
    try {
      const clip = await this.clip(voiceId);
      if (!clip || clip.status !== 'recording') {
        await this.close(voiceId);
        return 'done';
      }
      // From here on chunks are refused (CONFLICT): the file is cut from what the stream holds now.
      await this.redis.hset(k.meta, 'state', 'ended');
      const entries = (await this.redis.xrangeBuffer(k.stream, '-', '+')) as [Buffer, Buffer[]][];
      const parts: Buffer[] = [];
      for (const [, fields] of entries) {
        const data = fields[0]?.toString() === 'i' ? fields[3] : undefined;
        if (data && (chunks === undefined || parts.length < chunks)) parts.push(data);
      }
      if (parts.length === 0) {
        await this.setStatus(clip, { status: 'failed', failure_reason: 'no audio received', original_key: null });
        this.logger.warn(`Voice ${voiceId} failed: no audio received`);
      } else {
        const original = Buffer.concat(parts);
        await this.storage.put(clip.original_key!, original);
        // Like an upload, voice.mimeType becomes the type sniffed from the bytes; ffmpeg judges the rest.
        const mimeType = sniffAudio(original)?.mimeType ?? clip.mime_type;
        await this.setStatus(clip, { status: 'processing', mime_type: mimeType, size_bytes: original.length });
        await this.queue.add(VOICE_TRANSCODE_JOB, { voiceId }, { jobId: voiceId, ...TRANSCODE_JOB_OPTIONS });
      }
      await this.close(voiceId);
      return 'done';
    } finally {
      this.forget(voiceId);
      await this.redis.voiceUnlock(k.lock, token).catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- internals

  private async open(recording: Recording): Promise<void> {
    const k = keys(recording.voiceId);
    await this.redis.voiceOpen(
      k.meta,
      k.alive,
      recording.speakerId,
      recording.channelId,
      recording.messageId,
      recording.workspaceId,
      this.liveTtlMs(),
      this.config.get('VOICE_ABANDON_MS'),
    );
  }

  private async close(voiceId: string): Promise<void> {
    const k = keys(voiceId);
    await this.redis.voiceClose(k.stream, k.meta, k.held, k.alive, ENDED_TTL_MS);
  }

  /** The recording, if the caller is its speaker; NOT_FOUND for non-members, FORBIDDEN for other members. */
  private async speakerRecording(userId: string, voiceId: string): Promise<Recording> {
    let recording = this.recordings.get(voiceId);
    if (!recording) {
      const clip = await this.clip(voiceId);
      if (!clip) throw AppException.notFound('Voice message');
      recording = {
        voiceId,
        messageId: clip.message_id,
        channelId: clip.channel_id,
        workspaceId: clip.workspace_id,
        speakerId: clip.author_id,
      };
      // A recording whose meta never reached Redis (its node died right after the commit) gets it now.
      if (clip.status === 'recording') await this.open(recording);
      this.remember(recording);
    }
    await this.access.requireChannelMember(recording.channelId, userId).catch(() => {
      throw AppException.notFound('Voice message');
    });
    if (recording.speakerId !== userId) throw AppException.forbidden('Only the speaker may do this');
    return recording;
  }

  private async clip(voiceId: string): Promise<ClipRow | undefined> {
    const rows: ClipRow[] = await this.dataSource.query(
      `SELECT v.id, v.message_id, v.workspace_id, v.channel_id, v.status, v.mime_type, v.original_key, m.author_id
         FROM voice_clips v JOIN messages m ON m.id = v.message_id
        WHERE v.id = $1`,
      [voiceId],
    );
    return rows[0];
  }

  /** The status change and its message.updated in one transaction; a clip already past `recording` is left alone. */
  private async setStatus(
    clip: ClipRow,
    change: {
      status: VoiceStatus;
      failure_reason?: string;
      mime_type?: string | null;
      size_bytes?: number;
      original_key?: null;
    },
  ): Promise<void> {
    const columns = Object.keys(change);
    await this.messages.changeMessage(null, clip.message_id, undefined, async (manager) => {
      const updated: [unknown[], number] = await manager.query(
        `UPDATE voice_clips SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now()
          WHERE id = $1 AND status = 'recording' RETURNING id`,
        [clip.id, ...Object.values(change)],
      );
      return updated[1] > 0 ? 'message.updated' : null;
    });
  }

  /** Another process is finalizing: wait (bounded) for its outcome. */
  private async waitUntilFinal(voiceId: string): Promise<void> {
    const deadline = Date.now() + FINALIZE_LOCK_MS;
    while (Date.now() < deadline) {
      if ((await this.clip(voiceId))?.status !== 'recording') return;
      await sleep(100);
    }
  }

  private remember(recording: Recording): void {
    if (this.recordings.size >= RECORDING_CACHE_MAX) this.recordings.delete(this.recordings.keys().next().value!);
    this.recordings.set(recording.voiceId, recording);
  }

  private forget(voiceId: string): void {
    this.recordings.delete(voiceId);
    for (const [socketId, voiceIds] of this.speakerSockets) {
      if (voiceIds.delete(voiceId) && voiceIds.size === 0) this.speakerSockets.delete(socketId);
    }
  }

  private trackSpeaker(socketId: string, voiceId: string): void {
    let voiceIds = this.speakerSockets.get(socketId);
    if (!voiceIds) this.speakerSockets.set(socketId, (voiceIds = new Set()));
    voiceIds.add(voiceId);
  }

  /** Upper bound of a recording's life: keys of a recording nobody finalizes still expire. */
  private liveTtlMs(): number {
    return (
      this.config.get('VOICE_MAX_SECONDS') * 1000 +
      DURATION_SLACK_MS +
      this.config.get('VOICE_ABANDON_MS') +
      ENDED_TTL_MS
    );
  }
}
