import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';

/** One socket in a huddle, as the wire shows it. */
export interface HuddleParticipant {
  userId: string;
  socketId: string;
  muted: boolean;
  speaking: boolean;
  joinedAt: string;
}

/** A huddle as Redis holds it: the participants in join order. */
export interface HuddleState {
  huddleId: string | null;
  workspaceId: string | null;
  /** Bumped on every change of the huddle, so a client can drop an older event that arrives late. */
  rev: number;
  participants: HuddleParticipant[];
}

/**
 * Redis keys of one channel's huddle; the hash tag keeps them in one cluster slot for the scripts.
 * - p: hash socketId -> participant JSON
 * - lease: sorted set socketId -> lease expiry (Redis clock, ms); the node holding the socket renews it
 * - meta: hash of the huddle's id and workspace, created with the first participant, deleted with the last
 */
const keys = (channelId: string) => {
  const base = `huddle:{${channelId}}`;
  return { participants: `${base}:p`, lease: `${base}:lease`, meta: `${base}:meta` };
};

/** Channels that may have a huddle, for the sweeper; kept outside the scripts (another slot). */
const ACTIVE_KEY = 'huddle:active';

/** Shared head of the scripts: `nowMs`, and participants whose lease ran out are dropped. */
const PURGE = `
local t = redis.call('TIME')
local nowMs = t[1] * 1000 + math.floor(t[2] / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', nowMs)
for _, s in ipairs(expired) do redis.call('HDEL', KEYS[1], s) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs) end
`;

/** Reply tail: huddle id, workspace id, revision, then the participants' JSON. */
const STATE = `
local reply = {redis.call('HGET', KEYS[3], 'id') or '', redis.call('HGET', KEYS[3], 'workspaceId') or '', tonumber(redis.call('HGET', KEYS[3], 'rev') or '0')}
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do table.insert(reply, v) end
`;

/**
 * Keys outlive a lease a little, so a huddle whose every node died disappears by itself; only ever
 * lengthened, so a shorter lease never cuts the others' keys.
 */
const EXPIRE = `
for i = 1, 3 do
  if redis.call('PTTL', KEYS[i]) < ARGV[2] * 3 then redis.call('PEXPIRE', KEYS[i], ARGV[2] * 3) end
end
`;

/**
 * KEYS: participants, lease, meta. ARGV: socketId, leaseMs, cap, participant JSON, new huddle id, workspace id.
 * Replies {status, purged, id, workspaceId, participant...}; status joined | already | full.
 */
const JOIN_SCRIPT = `${PURGE}
local status = 'already'
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
    if #expired > 0 then redis.call('HINCRBY', KEYS[3], 'rev', 1) end
    ${STATE}
    table.insert(reply, 1, #expired)
    table.insert(reply, 1, 'full')
    return reply
  end
  if redis.call('HLEN', KEYS[1]) == 0 then
    redis.call('DEL', KEYS[3])
    redis.call('HSET', KEYS[3], 'id', ARGV[5], 'workspaceId', ARGV[6])
  end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
  status = 'joined'
end
if status == 'joined' or #expired > 0 then redis.call('HINCRBY', KEYS[3], 'rev', 1) end
redis.call('ZADD', KEYS[2], nowMs + tonumber(ARGV[2]), ARGV[1])
${EXPIRE}
${STATE}
table.insert(reply, 1, #expired)
table.insert(reply, 1, status)
return reply`;

/** KEYS: participants, lease, meta. ARGV: socketId. Replies {removed 0|1, id, workspaceId, participant...}. */
const LEAVE_SCRIPT = `
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if removed == 1 then redis.call('HINCRBY', KEYS[3], 'rev', 1) end
${STATE}
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
table.insert(reply, 1, removed)
return reply`;

/**
 * Sets one field of a participant. KEYS: participants, lease, meta. ARGV: socketId, field, 'true'|'false'.
 * Replies {status, id, workspaceId, participant...}; status changed | same | missing.
 */
const UPDATE_SCRIPT = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'missing'} end
local p = cjson.decode(raw)
local value = ARGV[3] == 'true'
local status = 'same'
if p[ARGV[2]] ~= value then
  p[ARGV[2]] = value
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(p))
  redis.call('HINCRBY', KEYS[3], 'rev', 1)
  status = 'changed'
end
${STATE}
table.insert(reply, 1, status)
return reply`;

/**
 * Renews the leases of this node's participants. KEYS: participants, lease, meta. ARGV: unused, leaseMs,
 * socketId... Replies the socket ids no longer in the huddle (swept while this node was away).
 */
const RENEW_SCRIPT = `
local t = redis.call('TIME')
local nowMs = t[1] * 1000 + math.floor(t[2] / 1000)
local gone = {}
for i = 3, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[2], nowMs + tonumber(ARGV[2]), ARGV[i])
  else
    table.insert(gone, ARGV[i])
  end
end
if redis.call('HLEN', KEYS[1]) > 0 then
  ${EXPIRE}
end
return gone`;

/** KEYS: participants, lease, meta. Replies {purged, id, workspaceId, participant...}; an empty huddle is deleted. */
const SWEEP_SCRIPT = `${PURGE}
if #expired > 0 then redis.call('HINCRBY', KEYS[3], 'rev', 1) end
${STATE}
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
table.insert(reply, 1, #expired)
return reply`;

type Reply = (string | number)[];
type HuddleRedis = Redis & {
  huddleJoin(p: string, lease: string, meta: string, ...args: (string | number)[]): Promise<Reply>;
  huddleLeave(p: string, lease: string, meta: string, socketId: string): Promise<Reply>;
  huddleUpdate(p: string, lease: string, meta: string, socketId: string, field: string, value: string): Promise<Reply>;
  huddleRenew(p: string, lease: string, meta: string, unused: string, leaseMs: number, ...socketIds: string[]): Promise<string[]>;
  huddleSweep(p: string, lease: string, meta: string): Promise<Reply>;
};

function state(reply: Reply, from: number): HuddleState {
  const participants = reply.slice(from + 3).map((raw) => JSON.parse(String(raw)) as HuddleParticipant);
  participants.sort((a, b) => a.joinedAt.localeCompare(b.joinedAt) || a.socketId.localeCompare(b.socketId));
  return { huddleId: String(reply[from]) || null, workspaceId: String(reply[from + 1]) || null, rev: Number(reply[from + 2]), participants };
}

/** The huddles of every channel, in Redis so that every node sees the same participants. */
@Injectable()
export class HuddleStore {
  private readonly redis: HuddleRedis;

  constructor(@Inject(REDIS) redis: Redis) {
    redis.defineCommand('huddleJoin', { numberOfKeys: 3, lua: JOIN_SCRIPT });
    redis.defineCommand('huddleLeave', { numberOfKeys: 3, lua: LEAVE_SCRIPT });
    redis.defineCommand('huddleUpdate', { numberOfKeys: 3, lua: UPDATE_SCRIPT });
    redis.defineCommand('huddleRenew', { numberOfKeys: 3, lua: RENEW_SCRIPT });
    redis.defineCommand('huddleSweep', { numberOfKeys: 3, lua: SWEEP_SCRIPT });
    this.redis = redis as HuddleRedis;
  }

  async join(
    channelId: string,
    participant: HuddleParticipant,
    options: { workspaceId: string; cap: number; leaseMs: number; newHuddleId: string },
  ): Promise<{ status: 'joined' | 'already' | 'full'; purged: number } & HuddleState> {
    const k = keys(channelId);
    const reply = await this.redis.huddleJoin(
      k.participants, k.lease, k.meta,
      participant.socketId, options.leaseMs, options.cap, JSON.stringify(participant), options.newHuddleId, options.workspaceId,
    );
    await this.redis.sadd(ACTIVE_KEY, channelId);
    return { status: reply[0] as 'joined' | 'already' | 'full', purged: Number(reply[1]), ...state(reply, 2) };
  }

  async leave(channelId: string, socketId: string): Promise<{ removed: boolean } & HuddleState> {
    const k = keys(channelId);
    const reply = await this.redis.huddleLeave(k.participants, k.lease, k.meta, socketId);
    return { removed: Number(reply[0]) === 1, ...state(reply, 1) };
  }

  async update(
    channelId: string,
    socketId: string,
    field: 'muted' | 'speaking',
    value: boolean,
  ): Promise<{ status: 'changed' | 'same' | 'missing' } & HuddleState> {
    const k = keys(channelId);
    const reply = await this.redis.huddleUpdate(k.participants, k.lease, k.meta, socketId, field, String(value));
    if (reply[0] === 'missing') return { status: 'missing', huddleId: null, workspaceId: null, rev: 0, participants: [] };
    return { status: reply[0] as 'changed' | 'same', ...state(reply, 1) };
  }

  /** The participant records of the given sockets (null where a socket is not in the huddle). */
  async participants(channelId: string, socketIds: string[]): Promise<(HuddleParticipant | null)[]> {
    const raw = await this.redis.hmget(keys(channelId).participants, ...socketIds);
    return raw.map((value) => (value ? (JSON.parse(value) as HuddleParticipant) : null));
  }

  async state(channelId: string): Promise<HuddleState> {
    const k = keys(channelId);
    // The sweep script also drops participants whose lease ran out, so the answer never lists a dead socket.
    return state(await this.redis.huddleSweep(k.participants, k.lease, k.meta), 1);
  }

  /** Renews leases; answers the sockets that were swept meanwhile. */
  async renew(channelId: string, socketIds: string[], leaseMs: number): Promise<string[]> {
    const k = keys(channelId);
    const gone = await this.redis.huddleRenew(k.participants, k.lease, k.meta, '', leaseMs, ...socketIds);
    await this.redis.sadd(ACTIVE_KEY, channelId);
    return gone;
  }

  /** Drops participants whose lease ran out in every active huddle; answers the huddles that changed. */
  async sweep(): Promise<({ channelId: string } & HuddleState)[]> {
    const changed: ({ channelId: string } & HuddleState)[] = [];
    for (const channelId of await this.redis.smembers(ACTIVE_KEY)) {
      const k = keys(channelId);
      const reply = await this.redis.huddleSweep(k.participants, k.lease, k.meta);
      const swept = state(reply, 1);
      if (Number(reply[0]) > 0) changed.push({ channelId, ...swept });
      // A join racing this removal re-adds the channel on its node's next renewal.
      if (swept.participants.length === 0) await this.redis.srem(ACTIVE_KEY, channelId);
    }
    return changed;
  }
}
