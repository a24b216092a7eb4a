import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { Api, registerUser, TestUser } from './support/api';
import { addMember, createWorkspace, rawSocket, sdkClient, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

/**
 * Regression tests for the security audit (issue 8): amplification, unmetered writes, caps, and
 * what deleted or edited content and old audio URLs still gave away. Limits are lowered here so the
 * caps are reached quickly; their shape is the production one.
 */
const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;

type Ack = { ok: true; data: any } | { ok: false; error: { code: string; message: string; retryAfterMs?: number; details?: unknown } };
const emitAck = (socket: Socket, event: string, payload: unknown, timeoutMs = 8000): Promise<Ack> =>
  socket.timeout(timeoutMs).emitWithAck(event, payload);

const ENV = {
  SYNC_PAGE_LIMIT: '20',
  SYNC_MAX_EVENTS: '50',
  SYNC_MAX_CHANNELS: '100',
  SYNC_RATE_BURST: '10',
  SYNC_RATE_PER_SECOND: '5',
  REACTIONS_PER_MESSAGE_MAX: '3',
  OPEN_RECORDINGS_PER_USER_MAX: '2',
  VOICE_CHUNK_BYTES_PER_SECOND: '4096',
  AUDIO_URL_TTL_SECONDS: '600',
};

describe('security audit regressions', () => {
  let server: TestServer;
  let worker: TestServer;
  let api: Api;
  let storageDir: string;
  let workDir: string;

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-audit-store-'));
    workDir = mkdtempSync(join(tmpdir(), 'pigeon-audit-'));
    const env = { ...ENV, VOICE_STORAGE_DIR: storageDir };
    [server, worker] = await Promise.all([startServer(env), startServer(env, 'worker.js')]);
    api = new Api(server.url);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), worker?.stop()]);
    rmSync(storageDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  const messagesPath = (team: TestWorkspace, channelId = team.generalId) => `/api/workspaces/${team.id}/channels/${channelId}/messages`;
  const post = async (team: TestWorkspace, user: TestUser, body: string, channelId = team.generalId) => {
    const sent = await api.post(messagesPath(team, channelId), { clientMsgId: randomUUID(), body }, user.accessToken);
    expect(sent.status).toBe(201);
    return sent.body as { id: string; seq: number };
  };
  const newChannel = async (team: TestWorkspace, name = `c-${randomUUID().slice(0, 8)}`) => {
    const created = await api.post(`/api/workspaces/${team.id}/channels`, { name, kind: 'public' }, team.owner.accessToken);
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  describe('sync is bounded (audit high: 13 KB frame, 84 MB answer)', () => {
    it('answers a channel listed many times once, from the smallest afterSeq', async () => {
      const team = await createWorkspace(api);
      for (let i = 0; i < 5; i++) await post(team, team.owner, `m${i}`);
      const socket = await rawSocket(server.url, team.owner.accessToken);
      try {
        const channels = Array.from({ length: 200 }, (_, i) => ({ channelId: team.generalId, afterSeq: i === 150 ? 0 : 3 }));
        const ack = await emitAck(socket, 'sync', { channels });
        expect(ack.ok).toBe(true);
        if (!ack.ok) return;
        expect(ack.data.channels).toHaveLength(1);
        const seqs = (ack.data.channels[0].events as { seq: number }[]).map((e) => e.seq);
        expect(seqs[0]).toBe(1);
        expect(new Set(seqs).size).toBe(seqs.length);
      } finally {
        socket.close();
      }
    });

    it('refuses more distinct channels than the cap with VALIDATION, and the socket keeps working', async () => {
      const team = await createWorkspace(api);
      const socket = await rawSocket(server.url, team.owner.accessToken);
      try {
        const channels = Array.from({ length: 101 }, () => ({ channelId: randomUUID(), afterSeq: 0 }));
        const ack = await emitAck(socket, 'sync', { channels });
        expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
        const fine = await emitAck(socket, 'sync', { channels: [{ channelId: team.generalId, afterSeq: 0 }] });
        expect(fine.ok).toBe(true);
      } finally {
        socket.close();
      }
    });

    it('returns at most SYNC_MAX_EVENTS across channels, with hasMore where it stopped; the SDK still catches up all', async () => {
      const team = await createWorkspace(api);
      const channelIds = [await newChannel(team), await newChannel(team), await newChannel(team)];
      // Two writers per channel keep each under the per-user write limit (20 in a burst).
      for (const channelId of channelIds) {
        for (const writer of [await addMember(api, team, 'w1'), await addMember(api, team, 'w2')]) {
          const joined = await api.post(`/api/workspaces/${team.id}/channels/${channelId}/join`, undefined, writer.accessToken);
          expect(joined.status).toBe(200);
          await Promise.all(Array.from({ length: 15 }, (_, i) => post(team, writer, `n${i}`, channelId)));
        }
      }
      const heads = new Map<string, number>();
      const answersHead = (id: string) => heads.get(id) ?? Infinity;
      const socket = await rawSocket(server.url, team.owner.accessToken);
      try {
        const ack = await emitAck(socket, 'sync', { channels: channelIds.map((channelId) => ({ channelId, afterSeq: 0 })) });
        expect(ack.ok).toBe(true);
        if (!ack.ok) return;
        const answers = ack.data.channels as { channelId: string; events: unknown[]; hasMore: boolean; headSeq: number }[];
        for (const a of answers) heads.set(a.channelId, a.headSeq);
        const total = answers.reduce((n, a) => n + a.events.length, 0);
        expect(total).toBeLessThanOrEqual(50);
        expect(answers.every((a) => a.events.length <= 20)).toBe(true);
        expect(answers.map((a) => a.hasMore)).toEqual([true, true, true]);
        // 32 events behind in each (2 member.joined + 30 messages): the 50 are shared out, 16 + 17 + 17.
        expect(answers.map((a) => a.events.length).sort()).toEqual([16, 17, 17]);
      } finally {
        socket.close();
      }
      // The SDK pages on through the budget: every channel is delivered complete and in order.
      const client = sdkClient(server.url, team.owner.accessToken, { replayFromStart: true });
      const delivered = new Map<string, number[]>();
      client.on('event', (event) => delivered.set(event.channelId, [...(delivered.get(event.channelId) ?? []), event.seq]));
      try {
        await client.connect();
        await waitFor(() => channelIds.every((id) => (delivered.get(id) ?? []).length >= answersHead(id)), 20_000, 'catch-up');
        await client.synced();
        for (const id of channelIds) {
          const seqs = delivered.get(id)!;
          expect(seqs).toEqual(seqs.map((_, i) => i + 1));
          expect(seqs.at(-1)).toBe(answersHead(id));
        }
      } finally {
        client.disconnect();
      }
    });

    it('rate limits sync calls per user with RATE_LIMITED and retryAfterMs', async () => {
      const team = await createWorkspace(api);
      const socket = await rawSocket(server.url, team.owner.accessToken);
      try {
        const request = { channels: [{ channelId: team.generalId, afterSeq: 0 }] };
        const acks = await Promise.all(Array.from({ length: 14 }, () => emitAck(socket, 'sync', request)));
        const limited = acks.filter((a) => !a.ok);
        expect(acks.filter((a) => a.ok)).toHaveLength(10);
        expect(limited).toHaveLength(4);
        for (const ack of limited) {
          expect(ack).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
          if (!ack.ok) expect(ack.error.retryAfterMs).toBeGreaterThan(0);
        }
      } finally {
        socket.close();
      }
    });
  });

  describe('every write counts (audit medium: 60 reactions in 1.35 s)', () => {
    it('counts reactions, edits and deletes against the write limit, over socket and REST alike', async () => {
      const team = await createWorkspace(api);
      const author = await addMember(api, team, 'writer');
      const target = await post(team, team.owner, 'react to me');
      const socket = await rawSocket(server.url, author.accessToken);
      try {
        const outcomes: string[] = [];
        for (let i = 0; i < 12; i++) {
          const added = await emitAck(socket, 'reaction:add', { messageId: target.id, emoji: `e${i % 2}` });
          outcomes.push(added.ok ? 'ok' : added.error.code);
          const removed = await emitAck(socket, 'reaction:remove', { messageId: target.id, emoji: `e${i % 2}` });
          outcomes.push(removed.ok ? 'ok' : removed.error.code);
        }
        // SEND_RATE_BURST (20) writes pass; the rest are refused until the window ends.
        expect(outcomes.filter((o) => o === 'ok')).toHaveLength(20);
        expect(outcomes.slice(20)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
        const edit = await emitAck(socket, 'message:edit', { messageId: target.id, body: 'x' });
        expect(edit).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
        const send = await api.post(messagesPath(team), { clientMsgId: randomUUID(), body: 'more' }, author.accessToken);
        expect(send.status).toBe(429);
      } finally {
        socket.close();
      }
    });

    it('counts a voice upload as a write: after 20 sends the next upload answers 429', async () => {
      const team = await createWorkspace(api);
      await Promise.all(Array.from({ length: 19 }, (_, i) => post(team, team.owner, `w${i}`)));
      const form = new FormData();
      form.append('clientMsgId', randomUUID());
      form.append('file', new Blob([new Uint8Array(toneWav(workDir))]), 'tone.wav');
      const upload = () =>
        fetch(`${server.url}${messagesPath(team).replace(/messages$/, 'voice')}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${team.owner.accessToken}` },
          body: form,
        });
      expect((await upload()).status).toBe(202);
      const refused = await upload();
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { code: string }).code).toBe('RATE_LIMITED');
    });

    it('caps distinct reactions per message with LIMIT_REACHED; an existing emoji can still be added', async () => {
      const team = await createWorkspace(api);
      const other = await addMember(api, team, 'other');
      const target = await post(team, team.owner, 'popular');
      const owner = await rawSocket(server.url, team.owner.accessToken);
      const second = await rawSocket(server.url, other.accessToken);
      try {
        for (const emoji of ['a', 'b', 'c']) expect((await emitAck(owner, 'reaction:add', { messageId: target.id, emoji })).ok).toBe(true);
        const fourth = await emitAck(owner, 'reaction:add', { messageId: target.id, emoji: 'd' });
        expect(fourth).toMatchObject({ ok: false, error: { code: 'LIMIT_REACHED' } });
        expect((await emitAck(second, 'reaction:add', { messageId: target.id, emoji: 'a' })).ok).toBe(true);
        const page = await api.get(`${messagesPath(team)}?limit=50`, team.owner.accessToken);
        const stored = (page.body.messages as { id: string; reactions: { emoji: string; count: number }[] }[]).find((m) => m.id === target.id)!;
        expect(stored.reactions.map((r) => [r.emoji, r.count])).toEqual([
          ['a', 2],
          ['b', 1],
          ['c', 1],
        ]);
      } finally {
        owner.close();
        second.close();
      }
    });
  });

  describe('deleted and edited text leaves the event log (audit medium)', () => {
    it('a member who joins later finds neither the deleted body nor the text before an edit, in events or sync', async () => {
      const team = await createWorkspace(api);
      const deleted = await post(team, team.owner, 'the launch code is swordfish');
      const edited = await post(team, team.owner, 'meet at the old mill');
      const socket = await rawSocket(server.url, team.owner.accessToken);
      try {
        expect((await emitAck(socket, 'reaction:add', { messageId: deleted.id, emoji: 'eyes' })).ok).toBe(true);
        expect((await emitAck(socket, 'message:edit', { messageId: edited.id, body: 'meet at the new cafe' })).ok).toBe(true);
        expect((await emitAck(socket, 'message:delete', { messageId: deleted.id })).ok).toBe(true);
      } finally {
        socket.close();
      }
      const late = await addMember(api, team, 'late');
      const events = await api.get(`/api/workspaces/${team.id}/channels/${team.generalId}/events?after=0`, late.accessToken);
      expect(events.status).toBe(200);
      const text = JSON.stringify(events.body);
      expect(text).toContain('meet at the new cafe');
      expect(text).not.toContain('swordfish');
      expect(text).not.toContain('old mill');
      const lateSocket = await rawSocket(server.url, late.accessToken);
      try {
        const synced = await emitAck(lateSocket, 'sync', { channels: [{ channelId: team.generalId, afterSeq: 0 }] });
        expect(synced.ok).toBe(true);
        const syncText = JSON.stringify(synced);
        expect(syncText).not.toContain('swordfish');
        expect(syncText).not.toContain('old mill');
        expect(syncText).toContain('message.deleted');
      } finally {
        lateSocket.close();
      }
    });
  });

  describe('voice audio after removal or deletion (audit medium)', () => {
    const uploadVoice = async (team: TestWorkspace, user: TestUser) => {
      const form = new FormData();
      form.append('clientMsgId', randomUUID());
      form.append('file', new Blob([new Uint8Array(toneWav(workDir))]), 'tone.wav');
      const response = await fetch(`${server.url}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.accessToken}` },
        body: form,
      });
      expect(response.status).toBe(202);
      return (await response.json()) as { id: string; voice: { id: string } };
    };
    const ready = async (voiceId: string, token: string) => {
      for (let i = 0; i < 300; i++) {
        const voice = await api.get(`/api/voice/${voiceId}`, token);
        if (voice.body.status === 'ready') return voice.body as { url: string; id: string };
        if (voice.body.status === 'failed') throw new Error('voice failed');
        await sleep(100);
      }
      throw new Error('voice not ready');
    };

    it('a signed URL is bound to its member: it stops working once the member is removed', async () => {
      const team = await createWorkspace(api);
      const member = await addMember(api, team, 'leaver');
      const message = await uploadVoice(team, team.owner);
      const voice = await ready(message.voice.id, member.accessToken);
      expect(voice.url).toContain(`u=${member.id}`);
      expect((await fetch(`${server.url}${voice.url}`)).status).toBe(200);
      // Another member's id in the URL breaks the signature.
      expect((await fetch(`${server.url}${voice.url.replace(member.id, team.owner.id)}`)).status).toBe(401);
      const removed = await api.delete(`/api/workspaces/${team.id}/members/${member.id}`, team.owner.accessToken);
      expect(removed.status).toBe(204);
      expect((await fetch(`${server.url}${voice.url}`)).status).toBe(404);
    });

    it('a deleted voice message serves no audio, shows no voice in history, and its files are removed', async () => {
      const team = await createWorkspace(api);
      const message = await uploadVoice(team, team.owner);
      const voice = await ready(message.voice.id, team.owner.accessToken);
      const voiceDir = join(storageDir, team.id, voice.id);
      expect(existsSync(join(voiceDir, 'voice.ogg'))).toBe(true);
      const socket = await rawSocket(server.url, team.owner.accessToken);
      try {
        expect((await emitAck(socket, 'message:delete', { messageId: message.id })).ok).toBe(true);
      } finally {
        socket.close();
      }
      expect((await fetch(`${server.url}${voice.url}`)).status).toBe(404);
      const byBearer = await fetch(`${server.url}/api/voice/${voice.id}/audio`, { headers: { authorization: `Bearer ${team.owner.accessToken}` } });
      expect(byBearer.status).toBe(404);
      const page = await api.get(`${messagesPath(team)}?limit=10`, team.owner.accessToken);
      const listed = (page.body.messages as { id: string; voice: unknown }[]).find((m) => m.id === message.id)!;
      expect(listed.voice).toBeNull();
      const events = await api.get(`/api/workspaces/${team.id}/channels/${team.generalId}/events?after=0`, team.owner.accessToken);
      for (const event of events.body.events as { data: { id: string; voice: unknown } }[]) {
        if (event.data.id === message.id) expect(event.data.voice).toBeNull();
      }
      await waitFor(() => !existsSync(join(voiceDir, 'voice.ogg')) && !existsSync(join(voiceDir, 'original')), 5000, 'files removed').catch((e) => {
        throw new Error(`${e}\n${server.output().slice(-3000)}`);
      });
    });
  });

  describe('live voice cannot fill Redis (audit medium)', () => {
    it('caps open recordings per user with LIMIT_REACHED and limits chunk bytes with RATE_LIMITED', async () => {
      const team = await createWorkspace(api);
      const speaker = await rawSocket(server.url, team.owner.accessToken);
      try {
        const start = () =>
          emitAck(speaker, 'voice:start', { channelId: team.generalId, clientMsgId: randomUUID(), mimeType: 'audio/ogg;codecs=opus' });
        const first = await start();
        const second = await start();
        expect(first.ok && second.ok).toBe(true);
        expect(await start()).toMatchObject({ ok: false, error: { code: 'LIMIT_REACHED' } });
        if (!first.ok) return;
        const voiceId = first.data.voice.id as string;
        // 4096 bytes/s, a 2 s window: 8 KiB pass, the next chunk is refused.
        const chunk = Buffer.alloc(2048, 1);
        const acks: Ack[] = [];
        for (let index = 0; index < 5; index++) acks.push(await emitAck(speaker, 'voice:chunk', { voiceId, index, data: chunk }));
        expect(acks.slice(0, 4).every((a) => a.ok)).toBe(true);
        expect(acks[4]).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
        // Ending one recording frees a slot.
        const ended = await emitAck(speaker, 'voice:end', { voiceId, chunks: 4, durationMs: 1000 });
        expect(ended).toMatchObject({ ok: true });
        expect((await start()).ok).toBe(true);
      } finally {
        speaker.close();
      }
    });
  });

  it('keeps other workspaces unaffected by one user hitting limits (sanity of per-user keys)', async () => {
    const team = await createWorkspace(api);
    const stranger = await registerUser(api, 'stranger');
    const socket = await rawSocket(server.url, stranger.accessToken);
    try {
      const ack = await emitAck(socket, 'sync', { channels: [{ channelId: team.generalId, afterSeq: 0 }] });
      expect(ack).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    } finally {
      socket.close();
    }
  });
});

/** A 1 s tone, made fresh so uploads are real audio. */
function toneWav(dir: string): Buffer {
  const path = join(dir, `tone-${randomUUID()}.wav`);
  execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '1', '-ar', '16000', path]);
  return readFileSync(path);
}
