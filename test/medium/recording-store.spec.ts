import { ABANDON_MS, MEDIUM_REDIS_PREFIX as prefix, MEDIUM_STORAGE_DIR as storageDir, restoreEnv } from './medium-env';
import { getQueueToken } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import Redis from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { AuthModule } from '../../src/auth/auth.module';
import { AuthService } from '../../src/auth/auth.service';
import { INFRASTRUCTURE_MODULES } from '../../src/infrastructure.modules';
import { PresenceModule } from '../../src/presence/presence.module';
import { QueueConnectionModule } from '../../src/queues/queue-connection.module';
import { QUEUES } from '../../src/queues/queues';
import { RecordingFinalizer } from '../../src/voice/recording-finalizer';
import { AppendResult, recordingKeys, RecordingStore } from '../../src/voice/recording-store';
import { RecordingSweeper } from '../../src/voice/recording-sweeper';
import { VoiceClipRepository } from '../../src/voice/voice-clip.repository';
import { VoiceClips } from '../../src/voice/voice-clips.service';
import { VoiceModule } from '../../src/voice/voice.module';
import { WorkspacesModule } from '../../src/workspaces/workspaces.module';
import { WorkspacesService } from '../../src/workspaces/workspaces.service';
import { TEST_REDIS_URL } from '../support/env';
import { sleep } from '../support/fixtures';

/**
 * Medium tier: the live-recording store, finalizer and sweeper in a Nest testing module against the
 * real Redis and Postgres (no HTTP, no sockets): what voice:chunk and voice:end rely on, step by step.
 */
describe('recording store (medium: Nest module, real Redis and Postgres)', () => {
  let app: INestApplicationContext;
  let store: RecordingStore;
  let finalizer: RecordingFinalizer;
  let sweeper: RecordingSweeper;
  let clips: VoiceClips;
  let repository: VoiceClipRepository;
  let queue: Queue;
  let db: DataSource;
  let redis: Redis;
  let speaker: { id: string; workspaceId: string; channelId: string };

  /** A recording with nothing behind it in Postgres: enough for the store alone. */
  const bare = () => ({
    voiceId: randomUUID(),
    messageId: randomUUID(),
    channelId: randomUUID(),
    workspaceId: randomUUID(),
    speakerId: speaker.id,
  });

  /** A recording as voice:start makes it: the message and its `recording` clip committed, then the store opened. */
  const started = async () => {
    const voiceId = randomUUID();
    const { message } = await clips.create({
      voiceId,
      userId: speaker.id,
      workspaceId: speaker.workspaceId,
      channelId: speaker.channelId,
      clientMsgId: randomUUID(),
      status: 'recording',
      mimeType: 'audio/ogg',
      sizeBytes: null,
    });
    const recording = { voiceId, messageId: message.id, channelId: speaker.channelId, workspaceId: speaker.workspaceId, speakerId: speaker.id };
    expect(await store.open(recording)).toBe(true);
    return recording;
  };

  const relayed = (result: AppendResult) =>
    result.status === 'ok' ? result.relay.map((r) => [r.index, r.data.toString()]) : result.status;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [...INFRASTRUCTURE_MODULES, QueueConnectionModule, PresenceModule, AuthModule, WorkspacesModule, VoiceModule],
    }).compile();
    app = await moduleRef.init();
    store = app.get(RecordingStore);
    finalizer = app.get(RecordingFinalizer);
    sweeper = app.get(RecordingSweeper);
    clips = app.get(VoiceClips);
    repository = app.get(VoiceClipRepository);
    queue = app.get(getQueueToken(QUEUES.voice));
    db = app.get(getDataSourceToken());
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: `${prefix}:` });
    const user = await app.get(AuthService).register(`medium-${randomUUID()}@example.test`, 'correct horse battery', 'Speaker', '127.0.0.1');
    const workspace = await app.get(WorkspacesService).create(user.user.id, 'Medium', `medium-${randomUUID().slice(0, 8)}`);
    const [general]: { id: string }[] = await db.query(`SELECT id FROM channels WHERE workspace_id = $1 AND name = 'general'`, [workspace.id]);
    speaker = { id: user.user.id, workspaceId: workspace.id, channelId: general.id };
  });

  afterAll(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await app?.close();
    redis?.disconnect();
    rmSync(storageDir, { recursive: true, force: true });
    restoreEnv();
  });

  it('appends chunks in order and relays each once, in index order', async () => {
    const recording = bare();
    await store.open(recording);
    expect(await store.open(recording)).toBe(false); // a retried voice:start changes nothing
    for (let i = 0; i < 3; i++) {
      expect(relayed(await store.append(recording.voiceId, speaker.id, i, Buffer.from(`c${i}`)))).toEqual([[i, `c${i}`]]);
    }
    expect(await store.progress(recording.voiceId)).toEqual({ received: 3, state: 'recording' });
    expect((await store.chunks(recording.voiceId)).map(String)).toEqual(['c0', 'c1', 'c2']);
    expect((await store.chunks(recording.voiceId, 2)).map(String)).toEqual(['c0', 'c1']);
    const entries = await store.read(recording.voiceId, '0-0');
    expect(entries.map((e) => ('data' in e ? e.data.toString() : 'end'))).toEqual(['c0', 'c1', 'c2']);
    // Reading on from the last id sees only what came after it.
    await store.append(recording.voiceId, speaker.id, 3, Buffer.from('c3'));
    expect((await store.read(recording.voiceId, entries[2].id)).map((e) => ('data' in e ? e.data.toString() : 'end'))).toEqual(['c3']);
  });

  it('takes a duplicate chunk idempotently: no second copy, no second relay', async () => {
    const recording = bare();
    await store.open(recording);
    await store.append(recording.voiceId, speaker.id, 0, Buffer.from('a'));
    expect(await store.append(recording.voiceId, speaker.id, 0, Buffer.from('a'))).toEqual({ status: 'duplicate' });
    // A duplicate of a chunk still held ahead of a gap is a duplicate too.
    expect(relayed(await store.append(recording.voiceId, speaker.id, 2, Buffer.from('c')))).toEqual([]);
    expect(await store.append(recording.voiceId, speaker.id, 2, Buffer.from('c'))).toEqual({ status: 'duplicate' });
    expect(relayed(await store.append(recording.voiceId, speaker.id, 1, Buffer.from('b')))).toEqual([[1, 'b'], [2, 'c']]);
    expect((await store.chunks(recording.voiceId)).map(String)).toEqual(['a', 'b', 'c']);
  });

  it('keeps an out-of-order chunk out of the stream until the gap fills, and refuses what is not the speaker’s', async () => {
    const recording = bare();
    await store.open(recording);
    expect(relayed(await store.append(recording.voiceId, speaker.id, 1, Buffer.from('second')))).toEqual([]);
    expect(relayed(await store.append(recording.voiceId, speaker.id, 3, Buffer.from('fourth')))).toEqual([]);
    expect(await store.progress(recording.voiceId)).toEqual({ received: 0, state: 'recording' });
    expect(await store.read(recording.voiceId, '0-0')).toEqual([]);
    expect(await store.chunks(recording.voiceId)).toEqual([]);
    expect(relayed(await store.append(recording.voiceId, speaker.id, 0, Buffer.from('first')))).toEqual([[0, 'first'], [1, 'second']]);
    expect(await store.progress(recording.voiceId)).toEqual({ received: 2, state: 'recording' });

    expect(await store.append(recording.voiceId, randomUUID(), 2, Buffer.from('x'))).toEqual({ status: 'not_speaker' });
    expect(await store.append(randomUUID(), speaker.id, 0, Buffer.from('x'))).toEqual({ status: 'missing' });
    expect(await store.append(recording.voiceId, speaker.id, 2, Buffer.alloc(64 * 1024))).toEqual({ status: 'too_large' });
    expect(relayed(await store.append(recording.voiceId, speaker.id, 2, Buffer.from('third')))).toEqual([[2, 'third'], [3, 'fourth']]);
  });

  it('finalizes once: the chunks become the original, the clip turns processing with its job, later chunks are refused', async () => {
    const recording = await started();
    const audio = randomBytes(3000);
    const parts = [audio.subarray(0, 1000), audio.subarray(1000, 2000), audio.subarray(2000)];
    for (const [i, part] of parts.entries()) await store.append(recording.voiceId, speaker.id, i, part);
    const events = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM channel_events WHERE channel_id = $1`, [speaker.channelId]))[0].n as number;

    // Another process holding the lock: this one backs off.
    const token = await store.lock(recording.voiceId);
    expect(await finalizer.finalize(recording.voiceId)).toBe('busy');
    await store.unlock(recording.voiceId, token!);

    const before = await events();
    expect(await finalizer.finalize(recording.voiceId, 2)).toBe('done');
    const clip = (await repository.find(recording.voiceId))!;
    expect(clip).toMatchObject({ status: 'processing', size_bytes: 2000 });
    expect(readFileSync(join(storageDir, clip.original_key!)).equals(audio.subarray(0, 2000))).toBe(true);
    expect(await events()).toBe(before + 1); // one message.updated
    // The job comes from the outbox row of that transaction, queued by the relay after commit.
    let job = await queue.getJob(recording.voiceId);
    for (let i = 0; !job && i < 100; i++) {
      await sleep(50);
      job = await queue.getJob(recording.voiceId);
    }
    expect(job).toMatchObject({ id: recording.voiceId, data: { voiceId: recording.voiceId } });

    expect(await store.append(recording.voiceId, speaker.id, 3, Buffer.from('late'))).toEqual({ status: 'ended' });
    const stream = await store.read(recording.voiceId, '0-0');
    expect(stream.at(-1)).toMatchObject({ end: true });
    // Finalizing again (voice:end racing a disconnect) changes nothing.
    expect(await finalizer.finalize(recording.voiceId)).toBe('done');
    expect(await events()).toBe(before + 1);
    expect((await store.read(recording.voiceId, '0-0')).filter((e) => 'end' in e)).toHaveLength(1);
  });

  it('expires every key of a recording, and sweeps the silent ones (from what arrived, or failed when nothing did)', async () => {
    const talking = await started();
    const silent = await started();
    const empty = await started();
    await store.append(talking.voiceId, speaker.id, 0, Buffer.from('t0'));
    await store.append(silent.voiceId, speaker.id, 0, Buffer.from('s0'));
    // Every key carries a TTL from the start: a recording nobody finalizes still goes.
    const live = recordingKeys(silent.voiceId);
    for (const key of [live.stream, live.meta, live.alive]) expect(await redis.pttl(key)).toBeGreaterThan(0);
    expect(await store.isAlive(silent.voiceId)).toBe(true);

    // Past VOICE_ABANDON_MS (clip age and silence both), the talking one keeps sending.
    await sleep(ABANDON_MS + 300);
    await store.append(talking.voiceId, speaker.id, 1, Buffer.from('t1'));
    expect(await store.isAlive(silent.voiceId)).toBe(false);
    await sweeper.sweep();

    expect((await repository.find(talking.voiceId))!.status).toBe('recording');
    expect(await repository.find(silent.voiceId)).toMatchObject({ status: 'processing', size_bytes: 2 });
    expect(await repository.find(empty.voiceId)).toMatchObject({ status: 'failed', failure_reason: 'no audio received', original_key: null });
    // Ended: the held chunks and the alive key are gone, the stream and meta expire within the hour.
    const ended = recordingKeys(silent.voiceId);
    expect(await redis.exists(ended.held, ended.alive)).toBe(0);
    const ttl = await redis.pttl(ended.stream);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600_000);
    await finalizer.finalize(talking.voiceId);
  });
});
