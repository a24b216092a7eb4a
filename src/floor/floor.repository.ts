import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfigService } from '../config/app-config.service';
import { REDIS } from '../redis/redis.module';
import { FLOOR_SCRIPT } from './floor.scripts';

/** Why a holder lost the floor. */
export type FloorLossReason = 'released' | 'ended' | 'timeout' | 'lease' | 'silence' | 'preempted' | 'disconnected' | 'mode';

/** The floor of one channel after an operation, as FLOOR_SCRIPT answers it. */
export interface FloorState {
  channelId: string;
  answer: 'ok' | 'granted' | 'queued' | 'not_held';
  position?: number;
  /** Holder or queue changed: a `floor` event is due. */
  changed: boolean;
  lost?: { userId: string; reason: FloorLossReason };
  holder: string | null;
  since: number | null;
  expiresAt: number | null;
  queue: string[];
  rev: number;
  workspaceId: string | null;
}

type FloorOp =
  | { op: 'request'; userId: string; node: string; socketId: string; priority: boolean; workspaceId: string }
  | { op: 'release' | 'end' | 'media'; userId: string }
  | { op: 'renew'; node: string }
  | { op: 'drop'; userId: string; socketId: string }
  | { op: 'tick' | 'clear' | 'state' };

type FloorRedis = Redis & { floorOp(...args: (string | number)[]): Promise<string> };

/** The channel's keys; the hash tag keeps them in one slot. ioredis adds REDIS_PREFIX to each. */
const keys = (channelId: string) => {
  const base = `floor:{${channelId}}`;
  return [base, `${base}:queue`, `${base}:queued`];
};
const ACTIVE = 'floor:active';
const SWEEP_LOCK = 'floor:sweep:lock';

/** Redis side of the floor: one atomic script per operation. */
@Injectable()
export class FloorRepository {
  private readonly redis: FloorRedis;

  constructor(
    @Inject(REDIS) redis: Redis,
    private readonly config: AppConfigService,
  ) {
    redis.defineCommand('floorOp', { numberOfKeys: 4, lua: FLOOR_SCRIPT });
    this.redis = redis as FloorRedis;
  }

  async run(channelId: string, operation: FloorOp): Promise<FloorState> {
    const args: string[] = [];
    switch (operation.op) {
      case 'request':
        args.push(operation.userId, operation.node, operation.socketId, operation.priority ? '1' : '0', operation.workspaceId);
        break;
      case 'release':
      case 'end':
      case 'media':
        args.push(operation.userId);
        break;
      case 'renew':
        args.push(operation.node);
        break;
      case 'drop':
        args.push(operation.userId, operation.socketId);
        break;
    }
    const reply = await this.redis.floorOp(
      ...keys(channelId),
      ACTIVE,
      channelId,
      operation.op,
      this.config.get('FLOOR_MAX_TALK_MS'),
      this.config.get('FLOOR_LEASE_MS'),
      this.config.get('FLOOR_END_OF_MEDIA_MS'),
      ...args,
    );
    const raw = JSON.parse(reply) as {
      answer: FloorState['answer'];
      position?: number;
      changed: boolean;
      lost?: [string, FloorLossReason];
      holder: string | false;
      since: number | false;
      expiresAt: number | false;
      queue: string[] | Record<string, never>;
      rev: number;
      ws: string | false;
    };
    return {
      channelId,
      answer: raw.answer,
      position: raw.position,
      changed: raw.changed,
      lost: raw.lost ? { userId: raw.lost[0], reason: raw.lost[1] } : undefined,
      holder: raw.holder || null,
      since: raw.since || null,
      expiresAt: raw.expiresAt || null,
      // cjson writes an empty Lua table as {}.
      queue: Array.isArray(raw.queue) ? raw.queue : [],
      rev: raw.rev,
      workspaceId: raw.ws || null,
    };
  }

  /** Channels whose holder has a deadline (talk time, lease, end of media) due now. */
  async due(limit: number): Promise<string[]> {
    const now = await this.redisNow();
    return this.redis.zrangebyscore(ACTIVE, '-inf', now, 'LIMIT', 0, limit);
  }

  /** One sweeper per interval across the nodes. */
  async claimSweep(ttlMs: number, node: string): Promise<boolean> {
    return (await this.redis.set(SWEEP_LOCK, node, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Redis' clock, the one the scripts judge deadlines by. */
  private async redisNow(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}
