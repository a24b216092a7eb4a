import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import type { EventEnvelope } from '../client/src/types';
import { Api } from './support/api';
import { TEST_REDIS_PREFIX, TEST_REDIS_URL } from './support/env';
import { addMember, createWorkspace, rawSocket, ReadySocket, TestWorkspace, waitFor } from './support/fixtures';
import { startRedisCluster, TestRedisCluster } from './support/redis-cluster';
import { startServer, TestServer } from './support/server';

type Ack = { ok: boolean; data?: any; error?: { code: string } };

/** One second of a 440 Hz tone as 16-bit mono PCM WAV (enough for the worker to transcode). */
function toneWav(sampleRate = 8000): Buffer {
  const samples = sampleRate;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(sampleRate, 24);
  wav.writeUInt32LE(sampleRate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / sampleRate) * 12_000), 44 + i * 2);
  return wav;
}

/**
 * SOCKET_ADAPTER=sharded against a real three-master Redis Cluster started here: two API nodes and
 * the worker fan out through Redis 7 sharded pub/sub (one shard channel per room), while the rest
 * (presence, rate limits, BullMQ) stays on the test Redis.
 */
describe('Socket.IO fan-out over a Redis Cluster (SOCKET_ADAPTER=sharded)', () => {
  let cluster: TestRedisCluster;
  const nodes: TestServer[] = [];
  let worker: TestServer | undefined;
  let storageDir: string;
  let api: Api;
  let team: TestWorkspace;
  let sender: ReadySocket;
  let receiver: ReadySocket;
  const sockets: ReadySocket[] = [];
  const clients: (Redis | Cluster)[] = [];
  const channelPrefix = `${TEST_REDIS_PREFIX}:socket.io#/rt#`;
  const roomChannel = (room: string) => `${channelPrefix}${room}#`;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-cluster-voice-'));
    const env = {
      SOCKET_ADAPTER: 'sharded',
      REDIS_FANOUT_CLUSTER_NODES: cluster.seeds,
      VOICE_STORAGE_DIR: storageDir,
      SEND_RATE_BURST: '100000',
      SEND_RATE_PER_SECOND: '100000',
    };
    [nodes[0], nodes[1], worker] = await Promise.all([startServer(env), startServer(env), startServer(env, 'worker.js')]);
    api = new Api(nodes[0].url);
    team = await createWorkspace(api);
    const member = await addMember(api, team, 'far');
    sender = await rawSocket(nodes[0].url, team.owner.accessToken);
    receiver = await rawSocket(nodes[1].url, member.accessToken);
    sockets.push(sender, receiver);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    clients.forEach((c) => c.disconnect());
    await Promise.all([...nodes, worker].map((n) => n?.stop()));
    await cluster?.stop();
    if (storageDir) rmSync(storageDir, { recursive: true, force: true });
  });

  /** Subscribers of a shard channel, summed over the masters (only the slot's master has any). */
  const shardSubscribers = async (channel: string) => {
    const counts = await Promise.all(cluster.masters.map((m) => m.call('PUBSUB', 'SHARDNUMSUB', channel) as Promise<[string, number]>));
    return counts.reduce((sum, [, n]) => sum + Number(n), 0);
  };
  const shardChannels = async () => {
    const perMaster = await Promise.all(cluster.masters.map((m) => m.call('PUBSUB', 'SHARDCHANNELS', `${channelPrefix}*`) as Promise<string[]>));
    return perMaster;
  };

  it('a message sent on node A reaches a member on node B, in order, with the contract shapes', async () => {
    const received: EventEnvelope[] = [];
    receiver.on('event', (e: EventEnvelope) => e.channelId === team.generalId && e.type === 'message.created' && received.push(e));
    const acks: Ack[] = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sender.timeout(10_000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: `cl-${i}-${randomUUID()}`, body: `cluster ${i}` }),
      ),
    );
    expect(acks.every((a) => a.ok)).toBe(true);
    await waitFor(() => received.length >= acks.length, 10_000, 'delivery on node B');
    const bySeq = [...acks].sort((a, b) => a.data.seq - b.data.seq);
    // Delivered in seq order, each once, and the event carries the very message the sender was acked.
    expect(received.map((e) => e.seq)).toEqual(bySeq.map((a) => a.data.seq));
    received.forEach((event, i) => {
      expect(event).toEqual({ workspaceId: team.id, channelId: team.generalId, seq: bySeq[i].data.seq, type: 'message.created', at: expect.any(String), data: bySeq[i].data });
    });
    expect(bySeq[0].data).toMatchObject({ channelId: team.generalId, authorId: team.owner.id, kind: 'text' });
  });

  it("SPUBLISHes a room's events on its own shard channel, to which only nodes with sockets in the room subscribe", async () => {
    const channel = roomChannel(`ch:${team.generalId}`);
    // Both API nodes hold a socket in #general: two shard subscribers, on the master of the channel's slot.
    expect(await shardSubscribers(channel)).toBe(2);
    const perMaster = await shardChannels();
    expect(perMaster.filter((channels) => channels.includes(channel))).toHaveLength(1);
    // Rooms spread over the shards (each master has some of this deployment's channels).
    expect(perMaster.flat()).toEqual(expect.arrayContaining([`${channelPrefix}`, roomChannel(`ws:${team.id}`)]));

    // A subscriber of our own sees the room's traffic as SPUBLISHed messages on that channel.
    const spy = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })), { shardedSubscribers: true });
    clients.push(spy);
    const heard: string[] = [];
    spy.on('smessageBuffer', (from: Buffer, message: Buffer) => from.toString() === channel && heard.push(message.toString()));
    await spy.ssubscribe(channel);
    const ack: Ack = await sender.timeout(10_000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'spied' });
    expect(ack.ok).toBe(true);
    await waitFor(() => heard.length > 0, 5000, 'the SPUBLISH on the room channel');
    await spy.sunsubscribe(channel);
    const packet = JSON.parse(heard[0]) as { data: { packet: { data: [string, EventEnvelope] }; opts: { rooms: string[] } } };
    expect(packet.data.opts.rooms).toEqual([`ch:${team.generalId}`]);
    expect(packet.data.packet.data).toEqual(['event', expect.objectContaining({ seq: ack.data.seq, data: ack.data })]);

    // The classic path is idle: nobody listens on REDIS_URL's adapter channel.
    const classic = new Redis(TEST_REDIS_URL);
    clients.push(classic);
    expect(await classic.pubsub('CHANNELS', `${TEST_REDIS_PREFIX}:socket.io*`)).toEqual([]);
  });

  it('the worker (no sockets) reaches sockets on both nodes: a voice message turning ready', async () => {
    const updates: [string, EventEnvelope][] = [];
    for (const [name, socket] of [['A', sender], ['B', receiver]] as const) {
      socket.on('event', (e: EventEnvelope) => e.type === 'message.updated' && updates.push([name, e]));
    }
    const form = new FormData();
    form.append('clientMsgId', randomUUID());
    form.append('file', new Blob([new Uint8Array(toneWav())]), 'tone.wav');
    const response = await fetch(`${nodes[0].url}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${team.owner.accessToken}` },
      body: form,
    });
    expect(response.status).toBe(202);
    const uploaded = (await response.json()) as { id: string; voice: { status: string } };
    expect(uploaded.voice.status).toBe('processing');
    const ready = (name: string) =>
      updates.some(([n, e]) => n === name && (e.data as { id: string; voice?: { status: string } }).id === uploaded.id && (e.data as { voice?: { status: string } }).voice?.status === 'ready');
    await waitFor(() => ready('A') && ready('B'), 30_000, "the worker's message.updated (voice ready) on both nodes");
    // It came through the worker's own cluster connection (the headless server's publisher).
    const clientLists = await Promise.all(cluster.masters.map((m) => m.client('LIST') as Promise<string>));
    expect(clientLists.join('\n')).toContain('name=pigeon-fanout-emitter');
  });

  it('a removal on node A reaches node B through serverSideEmit, acknowledged by the API nodes only (not the worker)', async () => {
    const member = await addMember(api, team, 'leaving');
    const socket = await rawSocket(nodes[1].url, member.accessToken);
    sockets.push(socket);
    const heard: string[] = [];
    socket.on('event', (e: EventEnvelope) => e.type === 'message.created' && heard.push((e.data as { body: string }).body));
    const started = Date.now();
    expect((await api.delete(`/api/workspaces/${team.id}/members/${member.id}`, team.owner.accessToken)).status).toBe(204);
    // The worker's adapter subscribes to nothing, so node A waits for node B's answer only, not for a timeout.
    expect(Date.now() - started).toBeLessThan(2500);
    const ack: Ack = await sender.timeout(10_000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'after removal' });
    expect(ack.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).not.toContain('after removal');
    expect(nodes[0].output()).not.toContain('not acknowledged by every node');
    socket.close();
  });

  it('unsubscribes a node from a room once its last socket there left (subscriptionMode dynamic)', async () => {
    const channel = roomChannel(`ch:${team.generalId}`);
    expect(await shardSubscribers(channel)).toBe(2);
    receiver.close();
    const deadline = Date.now() + 5000;
    while ((await shardSubscribers(channel)) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await shardSubscribers(channel)).toBe(1);
  });
});
