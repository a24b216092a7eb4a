import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import type { EventEnvelope } from '../client/src/types';
import { Api } from './support/api';
import { TEST_DATABASE_URL } from './support/env';
import { addMember, createWorkspace, rawSocket, sdkClient, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

type Ack = { ok: boolean; data?: any; error?: { code: string } };
const FAST = { SEND_RATE_BURST: '100000', SEND_RATE_PER_SECOND: '100000' };

/** Three API processes, one database, one Redis: the scale-out the README describes. */
describe('three API nodes', () => {
  let nodes: TestServer[];
  let api: Api;
  let db: Client;
  let team: TestWorkspace;

  beforeAll(async () => {
    nodes = await Promise.all([startServer(FAST), startServer(FAST), startServer(FAST)]);
    api = new Api(nodes[0].url);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    team = await createWorkspace(api);
  });
  afterAll(async () => {
    await db.end();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  const headSeq = async (channelId: string) =>
    Number((await db.query('SELECT head_seq FROM channels WHERE id = $1', [channelId])).rows[0].head_seq);

  it('concurrent senders on every node get contiguous unique seqs, delivered in order on every node (guarantees 1, 4)', async () => {
    const receivers = await Promise.all([1, 2].map(async (n) => {
      const member = await addMember(api, team, `receiver${n}`);
      const client = sdkClient(nodes[n].url, member.accessToken);
      const delivered: EventEnvelope[] = [];
      client.on('event', (e) => e.channelId === team.generalId && delivered.push(e));
      await client.connect();
      await client.synced();
      return { client, delivered };
    }));
    const start = await headSeq(team.generalId);
    const senders = await Promise.all(nodes.map(async (node, n) => {
      const member = await addMember(api, team, `sender${n}`);
      return rawSocket(node.url, member.accessToken);
    }));
    const perSender = 60;
    const acks: Ack[][] = await Promise.all(
      senders.map((socket, n) =>
        Promise.all(Array.from({ length: perSender }, (_, i) =>
          socket.timeout(10_000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: `mn-${n}-${i}-${randomUUID()}`, body: `${n}:${i}` }),
        )),
      ),
    );
    const seqs = acks.flat().map((a) => (a.ok ? a.data.seq : -1));
    expect(seqs.every((s) => s > start)).toBe(true);
    expect(new Set(seqs).size).toBe(seqs.length);
    const end = await headSeq(team.generalId);
    // Every seq of the log in (start, end] exists exactly once: no gap, no repeat.
    const log = await db.query('SELECT seq FROM channel_events WHERE channel_id = $1 AND seq > $2 ORDER BY seq', [team.generalId, start]);
    expect(log.rows.map((r: { seq: string }) => Number(r.seq))).toEqual(Array.from({ length: end - start }, (_, i) => start + 1 + i));
    for (const { client, delivered } of receivers) {
      await waitFor(() => delivered.length > 0 && delivered[delivered.length - 1].seq >= end, 15_000, 'delivery on every node');
      const got = delivered.filter((e) => e.seq > start).map((e) => e.seq);
      expect(got).toEqual(Array.from({ length: end - start }, (_, i) => start + 1 + i));
      client.disconnect();
    }
    senders.forEach((s) => s.close());
  });

  it('50 concurrent REST posts through two instances get seqs head+1..head+50, each once', async () => {
    const apis = [new Api(nodes[0].url), new Api(nodes[1].url)];
    const start = await headSeq(team.generalId);
    const posts = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        apis[i % 2].post(`/api/workspaces/${team.id}/channels/${team.generalId}/messages`, { clientMsgId: `rest-${i}-${randomUUID()}`, body: `r${i}` }, team.owner.accessToken),
      ),
    );
    expect(posts.map((p) => p.status)).toEqual(Array(50).fill(201));
    const seqs = posts.map((p) => p.body.seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => start + 1 + i));
    expect(await headSeq(team.generalId)).toBe(start + 50);
  });

  it('sends into many channels from every node at once keep each channel gap-free (cross-channel group commit)', async () => {
    const channelIds: string[] = [];
    for (let c = 0; c < 8; c++) {
      const created = await api.post(`/api/workspaces/${team.id}/channels`, { name: `mix-${c}-${randomUUID().slice(0, 6)}`, kind: 'public' }, team.owner.accessToken);
      expect(created.status).toBe(201);
      channelIds.push(created.body.id);
    }
    const senders = await Promise.all(nodes.map((node) => rawSocket(node.url, team.owner.accessToken)));
    const acks: Ack[] = await Promise.all(
      Array.from({ length: 240 }, (_, i) =>
        senders[i % 3].timeout(15_000).emitWithAck('message:send', {
          channelId: channelIds[(i * 7) % channelIds.length],
          clientMsgId: `mix-${i}-${randomUUID()}`,
          body: `m${i}`,
        }),
      ),
    );
    expect(acks.every((a) => a.ok)).toBe(true);
    for (const channelId of channelIds) {
      const head = await headSeq(channelId);
      const log = await db.query('SELECT seq FROM channel_events WHERE channel_id = $1 ORDER BY seq', [channelId]);
      expect(log.rows.map((r: { seq: string }) => Number(r.seq))).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      const ackedSeqs = acks.filter((a) => a.ok && a.data.channelId === channelId).map((a) => a.data.seq as number);
      expect(new Set(ackedSeqs).size).toBe(ackedSeqs.length);
      const stored = await db.query('SELECT seq FROM messages WHERE channel_id = $1 ORDER BY seq', [channelId]);
      expect(stored.rows.map((r: { seq: string }) => Number(r.seq))).toEqual([...ackedSeqs].sort((a, b) => a - b));
    }
    senders.forEach((s) => s.close());
  });

  it('the same clientMsgId sent through every node at once is stored once and acked with one message (guarantee 5)', async () => {
    const senders = await Promise.all(nodes.map((node) => rawSocket(node.url, team.owner.accessToken)));
    for (let round = 0; round < 5; round++) {
      const clientMsgId = `race-${round}-${randomUUID()}`;
      const acks: Ack[] = await Promise.all(
        senders.flatMap((socket) =>
          [0, 1, 2].map(() => socket.timeout(15_000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId, body: 'once' })),
        ),
      );
      expect(acks.every((a) => a.ok)).toBe(true);
      expect(new Set(acks.map((a) => a.data.id)).size).toBe(1);
      const stored = await db.query('SELECT count(*)::int AS n FROM messages WHERE client_msg_id = $1', [clientMsgId]);
      expect(stored.rows[0].n).toBe(1);
    }
    const end = await headSeq(team.generalId);
    const log = await db.query('SELECT count(*)::int AS n, min(seq) AS lo FROM channel_events WHERE channel_id = $1', [team.generalId]);
    expect(log.rows[0].n).toBe(end);
    senders.forEach((s) => s.close());
  });

  it('removal through node 1 stops delivery on node 3 before the call answers (guarantee 6)', async () => {
    const member = await addMember(api, team, 'removed');
    const socket = await rawSocket(nodes[2].url, member.accessToken);
    const received: EventEnvelope[] = [];
    socket.on('event', (e: EventEnvelope) => e.channelId === team.generalId && e.type === 'message.created' && received.push(e));
    const owner = await rawSocket(nodes[1].url, team.owner.accessToken);
    const before = await owner.timeout(5000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'before' });
    await waitFor(() => received.some((e) => (e.data as { id: string }).id === before.data.id), 5000, 'pre-removal delivery');
    const removed = await api.delete(`/api/workspaces/${team.id}/members/${member.id}`, team.owner.accessToken);
    expect(removed.status).toBe(204);
    const after = await owner.timeout(5000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'after' });
    expect(after.ok).toBe(true);
    await sleep(500);
    expect(received.some((e) => (e.data as { id: string }).id === after.data.id)).toBe(false);
    const denied = await socket.timeout(5000).emitWithAck('sync', { channels: [{ channelId: team.generalId, afterSeq: 0 }] });
    expect(denied.error.code).toBe('NOT_FOUND');
    socket.close();
    owner.close();
  });

  it('kill -9 of a node while 20 clients send: nothing acked is lost or doubled, its clients resume elsewhere (guarantees 2, 3, 5)', async () => {
    const members = await Promise.all(Array.from({ length: 20 }, (_, i) => addMember(api, team, `k${i}`)));
    // A reader on the doomed node, resumed later on a survivor from the positions it had delivered.
    const reader = await addMember(api, team, 'reader');
    const doomedReader = sdkClient(nodes[1].url, reader.accessToken);
    const seen: EventEnvelope[] = [];
    doomedReader.on('event', (e) => e.channelId === team.generalId && seen.push(e));
    await doomedReader.connect();
    await doomedReader.synced();
    const startSeq = doomedReader.lastSeq(team.generalId) ?? 0;

    const acked = new Map<string, string>(); // clientMsgId -> message id
    const unacked: { member: number; clientMsgId: string }[] = [];
    const perClient = 15;
    let killed = false;
    const sockets: Socket[] = await Promise.all(members.map((m, i) => rawSocket(nodes[i % 2].url, m.accessToken)));
    const sending = sockets.map(async (socket, i) => {
      for (let k = 0; k < perClient; k++) {
        const clientMsgId = `kill-${i}-${k}-${randomUUID()}`;
        if (!socket.connected) {
          // The node is gone: the client keeps the message and retries it elsewhere below.
          unacked.push({ member: i, clientMsgId });
          continue;
        }
        try {
          const ack: Ack = await socket.timeout(3000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId, body: `${i}/${k}` });
          if (ack.ok) acked.set(clientMsgId, ack.data.id);
          else unacked.push({ member: i, clientMsgId });
        } catch {
          unacked.push({ member: i, clientMsgId });
        }
        if (i === 0 && k === 5 && !killed) {
          killed = true;
          await nodes[1].crash();
        }
        await sleep(10);
      }
    });
    await Promise.all(sending);
    expect(killed).toBe(true);
    // Clients of the dead node retry what was never acked, with the same clientMsgId, on a survivor.
    const retrySockets = new Map<number, Socket>();
    for (const { member, clientMsgId } of unacked) {
      let socket = retrySockets.get(member);
      if (!socket) {
        socket = await rawSocket(nodes[2].url, members[member].accessToken);
        retrySockets.set(member, socket);
      }
      const ack: Ack = await socket.timeout(5000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId, body: 'retry' });
      expect(ack.ok).toBe(true);
      const previous = acked.get(clientMsgId);
      if (previous) expect(ack.data.id).toBe(previous);
      acked.set(clientMsgId, ack.data.id);
    }
    const ids = [...acked.keys()];
    const stored = await db.query('SELECT client_msg_id, id FROM messages WHERE client_msg_id = ANY($1)', [ids]);
    expect(stored.rows.length).toBe(ids.length);
    for (const row of stored.rows as { client_msg_id: string; id: string }[]) expect(acked.get(row.client_msg_id)).toBe(row.id);

    // The reader resumes on node 3 from what it delivered: no gap, no duplicate.
    const positions = doomedReader.positions();
    doomedReader.disconnect();
    const resumed = sdkClient(nodes[2].url, reader.accessToken, { resumeFrom: positions });
    resumed.on('event', (e) => e.channelId === team.generalId && seen.push(e));
    await resumed.connect();
    const end = await headSeq(team.generalId);
    await waitFor(() => seen.length > 0 && seen[seen.length - 1].seq >= end, 15_000, 'resume on a survivor');
    resumed.disconnect();
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: end - startSeq }, (_, i) => startSeq + 1 + i));
    // Survivors keep working.
    const survivor = await rawSocket(nodes[0].url, team.owner.accessToken);
    const ok: Ack = await survivor.timeout(5000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'still here' });
    expect(ok.ok).toBe(true);
    [...sockets, ...retrySockets.values(), survivor].forEach((s) => s.close());
  });
});
