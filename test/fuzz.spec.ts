import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { Api, registerUser, TestUser } from './support/api';
import { addMember, createWorkspace, rawSocket, ReadySocket, TestWorkspace } from './support/fixtures';
import { startServer, TestServer } from './support/server';

/**
 * Seeded fuzzing of every client-to-server socket event and the main REST bodies. Replay a run
 * with `FUZZ_SEED=<seed from the test name> npm test -- test/fuzz.spec.ts`; FUZZ_COUNT changes
 * the number of payloads (default 10,000).
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const CONTRACT_CODES = new Set(['VALIDATION', 'NOT_FOUND', 'FORBIDDEN', 'RATE_LIMITED', 'CONFLICT', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE']);
const RSS = 'pigeon_process_resident_memory_bytes';

/** mulberry32: a tiny seeded PRNG, [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Ack = { ok: boolean; data?: unknown; error?: { code?: string; message?: string } };
interface Finding {
  kind: string;
  target: string;
  payload: string;
  answer: string;
}

const SOCKET_EVENTS = ['message:send', 'message:edit', 'message:delete', 'reaction:add', 'reaction:remove', 'sync', 'channel:read', 'typing', 'presence:set', 'auth:refresh'];
const REST_TARGETS = ['messages', 'channels', 'workspaces', 'invites', 'member-role', 'login'];
const FIELD_NAMES = [
  'channelId', 'clientMsgId', 'body', 'topicId', 'replyToId', 'messageId', 'emoji', 'channels', 'afterSeq', 'limit', 'seq', 'status', 'token',
  'name', 'slug', 'kind', 'memberIds', 'role', 'maxUses', 'expiresInHours', 'email', 'password', 'userId',
];
const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'length', '', ' ', '$where', 'a.b', '0'];
const NASTY_STRINGS = [
  '', ' ', '\u0000', '\ud800', '\udfff', '\u202e\u202d', '\u200b\u200b', '🐦‍🔥🏳️‍🌈👩🏽‍💻', 'ｆｕｌｌｗｉｄｔｈ', 'Ω≈ç√∫', 'null', 'undefined', 'NaN', 'true', '-1',
  '1e309', '0x10', "' OR 1=1 --", '"; DROP TABLE messages; --', '<script>alert(1)</script>', '%00%ff', '../../etc/passwd', '${jndi:ldap://x}',
  '{{7*7}}', '\\', '\r\n\r\n', 'online', 'away', 'dnd', 'offline', 'member', 'guest', 'admin', 'owner', 'public', 'private', 'direct',
  '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'not-a-uuid', 'eyJhbGciOiJub25lIn0.e30.',
];

class Gen {
  readonly rnd: () => number;
  constructor(seed: number, private readonly ids: () => string[]) {
    this.rnd = mulberry32(seed);
  }
  int(n: number) {
    return Math.floor(this.rnd() * n);
  }
  chance(p: number) {
    return this.rnd() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  uuid(): string {
    const hex = () => this.int(16).toString(16);
    const s = Array.from({ length: 32 }, hex).join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-${'89ab'[this.int(4)]}${s.slice(17, 20)}-${s.slice(20, 32)}`;
  }
  string(): string {
    switch (this.int(8)) {
      case 0:
        return this.pick(NASTY_STRINGS);
      case 1:
        return this.uuid();
      case 2:
        return this.pick(this.ids());
      case 3: {
        // long: up to 20k characters (well under the 128 KiB frame limit even as UTF-8)
        const unit = this.pick(['a', 'é', '🐦', ' ', '\u0000', 'x'.repeat(10)]);
        return unit.repeat(1 + this.int(this.chance(0.3) ? 5000 : 300)).slice(0, 20_000);
      }
      case 4:
        return String.fromCharCode(...Array.from({ length: 1 + this.int(40) }, () => this.int(0xffff)));
      case 5:
        return Array.from({ length: 1 + this.int(64) }, () => 'abcdefghijklmnopqrstuvwxyz0123456789_.:-'[this.int(40)]).join('');
      case 6:
        return String(this.number());
      default:
        return Array.from({ length: this.int(20) }, () => String.fromCharCode(32 + this.int(95))).join('');
    }
  }
  number(): number {
    switch (this.int(7)) {
      case 0:
        return this.int(10);
      case 1:
        return -this.int(1000);
      case 2:
        return this.pick([0, -0, 1, -1, 2 ** 31, 2 ** 31 - 1, -(2 ** 31), 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, 1e308, -1e308]);
      case 3:
        return this.rnd() * 1e6;
      case 4:
        return this.int(600);
      case 5:
        return 1e21 * this.rnd();
      default:
        return this.int(2 ** 30);
    }
  }
  value(depth = 0, binary = false): unknown {
    const leafOnly = depth >= 4;
    switch (this.int(leafOnly ? 5 : 8)) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.number();
      case 3:
      case 4:
        return binary && this.chance(0.05) ? Buffer.from(this.string()) : this.string();
      case 5:
        return Array.from({ length: this.int(6) }, () => this.value(depth + 1, binary));
      default:
        return this.object(depth + 1, binary);
    }
  }
  object(depth = 0, binary = false): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const n = this.int(7);
    for (let i = 0; i < n; i++) {
      const key = this.chance(0.4) ? this.pick(FIELD_NAMES) : this.chance(0.5) ? this.pick(NASTY_KEYS) : this.string().slice(0, 50);
      // defineProperty, so `__proto__` becomes an own (serialized) key instead of the prototype.
      Object.defineProperty(out, key, { value: this.value(depth, binary), enumerable: true, configurable: true, writable: true });
    }
    return out;
  }
  /** A valid payload, mutated with probability 2/3 (one field replaced, dropped, or one added). */
  mutate(valid: Record<string, unknown>, binary = false): unknown {
    const roll = this.int(9);
    if (roll < 3) return valid;
    const copy: Record<string, unknown> = { ...valid };
    const keys = Object.keys(copy);
    if (roll < 6 && keys.length) copy[this.pick(keys)] = this.value(1, binary);
    else if (roll < 7 && keys.length) delete copy[this.pick(keys)];
    else Object.defineProperty(copy, this.chance(0.5) ? this.pick(NASTY_KEYS) : this.pick(FIELD_NAMES), { value: this.value(1, binary), enumerable: true, configurable: true, writable: true });
    return copy;
  }
}

describe('fuzz: socket events and REST bodies', () => {
  let server: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let member: TestUser;
  let stranger: TestUser;
  let foreignChannelId: string;
  let privateChannelId: string;
  const messageIds: string[] = [];
  const sockets: ReadySocket[] = [];

  beforeAll(async () => {
    server = await startServer({ SEND_RATE_BURST: '1000000', SEND_RATE_PER_SECOND: '1000000' });
    api = new Api(server.url);
    team = await createWorkspace(api);
    member = await addMember(api, team, 'fuzz-member');
    stranger = await registerUser(api, 'stranger');
    const foreign = await createWorkspace(api, stranger);
    foreignChannelId = foreign.generalId;
    const priv = await api.post(`/api/workspaces/${team.id}/channels`, { name: `priv-${randomUUID().slice(0, 8)}`, kind: 'private' }, team.owner.accessToken);
    privateChannelId = priv.body.id;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await server.stop();
  });

  const rss = async (): Promise<number> => {
    const response = await api.get('/metrics');
    const line = String(response.body)
      .split('\n')
      .find((l) => l.startsWith(`${RSS} `) || l.startsWith(`${RSS}{`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
  };

  it(`${COUNT} seeded random payloads (seed ${SEED}) get contract answers, never INTERNAL or 5xx, and the server survives`, async () => {
    const owner = await rawSocket(server.url, team.owner.accessToken);
    const memberSocket = await rawSocket(server.url, member.accessToken);
    sockets.push(owner, memberSocket);
    const disconnects: string[] = [];
    for (const s of [owner, memberSocket]) s.on('disconnect', (reason) => disconnects.push(reason));
    const seedMessage = (await owner.timeout(5000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: `fuzz-seed-${randomUUID()}`, body: 'seed' })) as Ack;
    expect(seedMessage.ok).toBe(true);
    messageIds.push((seedMessage.data as { id: string }).id);

    const ids = () => [team.id, team.generalId, privateChannelId, foreignChannelId, team.owner.id, member.id, stranger.id, ...messageIds.slice(-5)];
    const gen = new Gen(SEED, ids);
    const findings: Finding[] = [];
    const counts: Record<string, number> = {};
    const note = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);
    const show = (v: unknown) => {
      try {
        const text = JSON.stringify(v, (_k, x) => (Buffer.isBuffer(x) || (x && x.type === 'Buffer') ? '<binary>' : x)) ?? String(v);
        return text.length > 300 ? `${text.slice(0, 300)}...(${text.length} chars)` : text;
      } catch {
        return String(v);
      }
    };

    const validSocket = (event: string): Record<string, unknown> => {
      const channelId = gen.chance(0.8) ? team.generalId : gen.pick(ids());
      const messageId = gen.pick(messageIds.slice(-5));
      switch (event) {
        case 'message:send':
          return { channelId, clientMsgId: `fz-${gen.int(1e9)}`, body: gen.string() || 'x' };
        case 'message:edit':
          return { messageId, body: gen.string() || 'y' };
        case 'message:delete':
          return { messageId: gen.chance(0.2) ? messageId : gen.uuid() };
        case 'reaction:add':
        case 'reaction:remove':
          return { messageId, emoji: gen.pick(['👍', '🐦', ':+1:', gen.string().slice(0, 40)]) };
        case 'sync':
          return { channels: [{ channelId, afterSeq: gen.int(50) }], limit: 1 + gen.int(500) };
        case 'channel:read':
          return { channelId, seq: gen.int(100) };
        case 'typing':
          return { channelId };
        case 'presence:set':
          return { status: gen.pick(['online', 'away', 'dnd']) };
        default:
          return { token: gen.chance(0.3) ? team.owner.accessToken : gen.string() };
      }
    };

    const fuzzSocket = async () => {
      const event = gen.pick(SOCKET_EVENTS);
      const socket: Socket = gen.chance(0.7) ? owner : memberSocket;
      const roll = gen.int(10);
      const payload = roll < 5 ? gen.mutate(validSocket(event), true) : roll < 9 ? gen.value(0, true) : undefined;
      let ack: Ack;
      try {
        ack = (payload === undefined ? await socket.timeout(10_000).emitWithAck(event) : await socket.timeout(10_000).emitWithAck(event, payload)) as Ack;
      } catch (error) {
        findings.push({ kind: 'no ack', target: event, payload: show(payload), answer: String(error) });
        return;
      }
      const shapeOk = !!ack && typeof ack === 'object' && typeof ack.ok === 'boolean';
      if (!shapeOk) {
        findings.push({ kind: 'ack shape', target: event, payload: show(payload), answer: show(ack) });
        return;
      }
      if (ack.ok) {
        note(`${event} ok`);
        if (event === 'message:send') messageIds.push((ack.data as { id: string }).id);
        return;
      }
      const code = ack.error?.code ?? '<none>';
      note(`${event} ${code}`);
      if (!CONTRACT_CODES.has(code)) findings.push({ kind: `ack code ${code}`, target: event, payload: show(payload), answer: show(ack) });
    };

    const restCall = (target: string): { method: string; path: string; body: unknown; token?: string } => {
      const wid = gen.chance(0.85) ? team.id : gen.pick([gen.uuid(), 'not-a-uuid', foreignChannelId, '%00', '..']);
      const cid = gen.chance(0.85) ? team.generalId : gen.pick([gen.uuid(), privateChannelId, foreignChannelId, 'x']);
      const token = gen.chance(0.9) ? (gen.chance(0.8) ? team.owner.accessToken : member.accessToken) : gen.pick([undefined, 'garbage', stranger.accessToken]);
      switch (target) {
        case 'messages':
          return { method: 'POST', path: `/api/workspaces/${wid}/channels/${cid}/messages`, body: gen.mutate({ clientMsgId: `fr-${gen.int(1e9)}`, body: gen.string() || 'z' }), token };
        case 'channels':
          return { method: 'POST', path: `/api/workspaces/${wid}/channels`, body: gen.mutate({ name: `c${gen.int(1e9)}`, kind: gen.pick(['public', 'private', 'direct']) }), token };
        case 'workspaces':
          return { method: 'POST', path: '/api/workspaces', body: gen.mutate({ name: gen.string() || 'w', slug: `w${gen.int(1e9)}` }), token };
        case 'invites':
          return { method: 'POST', path: `/api/workspaces/${wid}/invites`, body: gen.mutate({ role: gen.pick(['member', 'guest', 'admin', 'owner']), maxUses: gen.int(20) }), token };
        case 'member-role': {
          const uid = gen.chance(0.7) ? member.id : gen.pick([team.owner.id, stranger.id, gen.uuid(), 'me']);
          // Never demote the owner through a valid body: the fuzzing session needs its owner.
          const role = uid === team.owner.id ? 'owner' : gen.pick(['member', 'guest', 'admin']);
          return { method: 'PATCH', path: `/api/workspaces/${wid}/members/${uid}`, body: gen.mutate({ role }), token };
        }
        default:
          return { method: 'POST', path: '/api/auth/login', body: gen.mutate({ email: gen.chance(0.5) ? member.email : gen.string(), password: gen.string() }), token: undefined };
      }
    };

    const fuzzRest = async () => {
      const target = gen.chance(0.04) ? 'login' : gen.pick(REST_TARGETS.filter((t) => t !== 'login'));
      const call = restCall(target);
      const raw = gen.chance(0.03) ? gen.pick(['{', '{"a":', 'nul', '[1,2', '\u0000', '{"__proto__":{"x":1}}', '"str"', '1e999', '{"a":1,"a":2}']) : undefined;
      let response;
      try {
        response = await api.request(call.method, call.path, raw !== undefined ? { raw, token: call.token } : { body: call.body, token: call.token });
      } catch (error) {
        findings.push({ kind: 'no answer', target: `${call.method} ${call.path}`, payload: raw ?? show(call.body), answer: String(error) });
        return;
      }
      const body = response.body as { code?: string } | undefined;
      note(`${target} ${response.status}${response.status >= 400 ? ` ${body?.code}` : ''}`);
      if (response.status >= 500 || (response.status >= 400 && !CONTRACT_CODES.has(String(body?.code)))) {
        findings.push({ kind: `HTTP ${response.status} ${body?.code}`, target: `${call.method} ${call.path}`, payload: raw ?? show(call.body), answer: show(body) });
      }
      // The member stays a member (a random valid PATCH may have made them a guest or admin; that is fine).
    };

    await rss(); // first scrape warms the registry
    const before = await rss();
    const started = Date.now();
    const restShare = 0.3;
    const batch = 40;
    for (let done = 0; done < COUNT; done += batch) {
      const n = Math.min(batch, COUNT - done);
      // Generation is sequential (deterministic per seed); only the I/O overlaps.
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < n; i++) jobs.push(gen.chance(restShare) ? fuzzRest() : fuzzSocket());
      await Promise.all(jobs);
    }
    const elapsed = Date.now() - started;

    // Still up: a valid send on a fresh socket works, and the fuzzed sockets were never dropped.
    const fresh = await rawSocket(server.url, team.owner.accessToken);
    sockets.push(fresh);
    const finalSend = (await fresh.timeout(10_000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: `fuzz-final-${randomUUID()}`, body: 'still here' })) as Ack;
    const after = await rss();
    const mb = (b: number) => (b / 1048576).toFixed(1);
    process.stdout.write(
      `fuzz seed ${SEED}: ${COUNT} payloads in ${elapsed} ms; RSS before ${mb(before)} MB, after ${mb(after)} MB; ` +
        `findings ${findings.length}; disconnects ${disconnects.length}\nanswers: ${JSON.stringify(counts)}\n` +
        findings.slice(0, 60).map((f) => `  ${f.kind} ${f.target} payload=${f.payload} answer=${f.answer}`).join('\n') + '\n',
    );
    if (findings.length) {
      // The server's own account of its INTERNAL answers (one line per distinct message).
      const distinct = new Map<string, string>();
      for (const line of server.output().split('\n')) {
        const m = /"(?:err|error)":\{[^}]*?"message":"([^"]{0,200})/.exec(line) ?? /(?:Error|error):? ([^\n]{0,200})/.exec(line);
        if (m && !distinct.has(m[1])) distinct.set(m[1], line.slice(0, 600));
      }
      process.stdout.write(`server errors (${distinct.size} distinct):\n${[...distinct.values()].slice(0, 10).join('\n')}\n`);
    }
    // One example per kind and target keeps a failure readable; the full list is printed above.
    const grouped: Record<string, { count: number; example: Finding }> = {};
    for (const f of findings) (grouped[`${f.kind} ${f.target.replace(/[0-9a-f-]{36}/g, ':id')}`] ??= { count: 0, example: f }).count++;
    expect(grouped).toEqual({});
    expect(disconnects).toEqual([]);
    expect(finalSend.ok).toBe(true);
    expect(server.process.exitCode).toBeNull();
    expect(after).toBeLessThan(before * 2 + 50 * 1048576);
  }, 180_000);
});
