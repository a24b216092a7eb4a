import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Subject } from 'rxjs';
import { AccessService, isAdminRole } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import type { ChannelMode } from '../channels/channel.entity';
import { channelRoom, FanoutService } from '../fanout/fanout.service';
import type { FloorEvent, FloorRequestResult } from '../protocol/wire';
import { ChannelModeRepository } from './channel-mode.repository';
import { FloorLossReason, FloorRepository, FloorState } from './floor.repository';
import { runAsSystem } from '../tenancy/tenant-context';

/** A holder lost the floor; its open recording must end (see FloorVoiceBridge). */
export interface FloorLost {
  channelId: string;
  userId: string;
  reason: FloorLossReason;
}

/** Mode changes apply on other nodes within this (the node that changes it forgets at once). */
const MODE_CACHE_MS = 1000;
const SWEEP_BATCH = 100;

/**
 * Push-to-talk floor control. The state lives in Redis (FloorRepository), so any node answers for any
 * channel; this node only remembers which of its sockets asked (to renew their lease and to drop them
 * when they go away). Every change is emitted as `floor` to the channel room by the node that made it.
 */
@Injectable()
export class FloorService implements OnModuleDestroy {
  private readonly logger = new Logger(FloorService.name);
  /** This process, as named in the leases it renews. */
  readonly node = randomUUID();
  /** Holders lose the floor here; subscribers end their recordings. */
  readonly lost$ = new Subject<FloorLost>();
  /** Channels this node's sockets hold or wait for: socket id -> user id. */
  private readonly interest = new Map<string, Map<string, string>>();
  private readonly modes = new Map<string, { mode: ChannelMode | null; at: number }>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly floors: FloorRepository,
    private readonly channels: ChannelModeRepository,
    private readonly access: AccessService,
    private readonly fanout: FanoutService,
    private readonly config: AppConfigService,
    private readonly rateLimit: RateLimitService,
  ) {}

  onModuleDestroy(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
  }

  // ---------------------------------------------------------------- client events

  async request(userId: string, socketId: string, channelId: string, priority: boolean): Promise<FloorRequestResult> {
    // Each attempt counts against the user's write budget, as a voice:start does: a floor request is
    // a Lua run and a room-wide `floor` event, so it must not be free to repeat.
    await this.rateLimit.consumeWrite(userId);
    const access = await this.access.requireChannelMember(channelId, userId);
    await this.requirePtt(channelId);
    if (priority && !isAdminRole(access.role)) throw AppException.forbidden('Only owners and admins may pre-empt the floor');
    this.remember(channelId, socketId, userId);
    const state = await this.floors.run(channelId, {
      op: 'request',
      userId,
      node: this.node,
      socketId,
      priority,
      workspaceId: access.workspaceId,
    });
    this.publish(state);
    return state.answer === 'granted' ? { state: 'granted' } : { state: 'queued', position: state.position };
  }

  /** GET .../floor: the floor as the next `floor` event would show it (for a client opening the channel). */
  async current(userId: string, workspaceId: string, channelId: string): Promise<FloorEvent> {
    const access = await this.access.requireChannelMember(channelId, userId, workspaceId);
    await this.requirePtt(channelId);
    const state = await this.floors.run(channelId, { op: 'state' });
    this.publish(state);
    return toFloorEvent(state, access.workspaceId);
  }

  async release(userId: string, channelId: string): Promise<Record<string, never>> {
    await this.access.requireChannelMember(channelId, userId);
    await this.requirePtt(channelId);
    this.publish(await this.floors.run(channelId, { op: 'release', userId }));
    return {};
  }

  /** This node's socket went away: it leaves the queue, and a floor it held passes on. */
  async socketGone(socketId: string): Promise<void> {
    for (const [channelId, sockets] of this.interest) {
      const userId = sockets.get(socketId);
      if (!userId) continue;
      sockets.delete(socketId);
      if (sockets.size === 0) this.interest.delete(channelId);
      this.publish(await this.floors.run(channelId, { op: 'drop', userId, socketId }));
    }
  }

  // ---------------------------------------------------------------- live voice (FloorPolicy)

  /** Resolves when the user may send media in the channel now; marks media for the end-of-media timer. */
  async requireHolder(userId: string, channelId: string): Promise<void> {
    if ((await this.mode(channelId)) !== 'ptt') return;
    const state = await this.floors.run(channelId, { op: 'media', userId });
    this.publish(state);
    if (state.answer === 'not_held') throw new AppException(ErrorCode.FLOOR_NOT_HELD, 'Request the floor first (floor:request)');
  }

  /** The holder's recording ended (voice:end): the floor passes on. */
  async recordingEnded(userId: string, channelId: string): Promise<void> {
    if ((await this.mode(channelId)) !== 'ptt') return;
    this.publish(await this.floors.run(channelId, { op: 'end', userId }));
  }

  // ---------------------------------------------------------------- mode changes

  /** After a channel left `ptt`: nobody holds its floor any more. */
  async cleared(channelId: string): Promise<void> {
    this.modes.delete(channelId);
    this.publish(await this.floors.run(channelId, { op: 'clear' }));
  }

  forgetMode(channelId: string): void {
    this.modes.delete(channelId);
  }

  // ---------------------------------------------------------------- timers (API nodes)

  /** Renews this node's leases and, one node at a time, hands over floors whose holder timed out. */
  startTimers(): void {
    if (this.timers.length) return;
    const lease = this.config.get('FLOOR_LEASE_MS');
    const every = this.config.get('FLOOR_SWEEP_INTERVAL_MS');
    const renew = setInterval(() => void runAsSystem('floor.lease', () => this.renew()).catch((e: unknown) => this.warn('Floor renew', e)), Math.floor(lease / 3));
    const sweep = setInterval(() => void runAsSystem('floor.lease', () => this.sweep(every)).catch((e: unknown) => this.warn('Floor sweep', e)), every);
    renew.unref();
    sweep.unref();
    this.timers = [renew, sweep];
  }

  async renew(): Promise<void> {
    for (const channelId of [...this.interest.keys()]) {
      this.publish(await this.floors.run(channelId, { op: 'renew', node: this.node }));
    }
  }

  async sweep(lockMs: number): Promise<void> {
    if (!(await this.floors.claimSweep(lockMs, this.node))) return;
    for (const channelId of await this.floors.due(SWEEP_BATCH)) {
      this.publish(await this.floors.run(channelId, { op: 'tick' }));
    }
  }

  // ---------------------------------------------------------------- internals

  async mode(channelId: string): Promise<ChannelMode | null> {
    const cached = this.modes.get(channelId);
    if (cached && Date.now() - cached.at < MODE_CACHE_MS) return cached.mode;
    const mode = await this.channels.mode(channelId);
    this.modes.set(channelId, { mode, at: Date.now() });
    return mode;
  }

  private async requirePtt(channelId: string): Promise<void> {
    if ((await this.mode(channelId)) !== 'ptt') {
      throw AppException.validation('The floor exists only in ptt channels', [
        { field: 'channelId', message: 'channel mode is not ptt' },
      ]);
    }
  }

  private remember(channelId: string, socketId: string, userId: string): void {
    let sockets = this.interest.get(channelId);
    if (!sockets) this.interest.set(channelId, (sockets = new Map()));
    sockets.set(socketId, userId);
  }

  /** Emits a change, reports a loss, and forgets this node's sockets that neither hold nor wait. */
  private publish(state: FloorState): void {
    if (state.lost) this.lost$.next({ channelId: state.channelId, ...state.lost });
    if (state.changed && state.workspaceId) {
      this.fanout.emit(channelRoom(state.channelId), 'floor', toFloorEvent(state, state.workspaceId));
    }
    const sockets = this.interest.get(state.channelId);
    if (!sockets) return;
    for (const [socketId, userId] of sockets) {
      if (userId !== state.holder && !state.queue.includes(userId)) sockets.delete(socketId);
    }
    if (sockets.size === 0) this.interest.delete(state.channelId);
  }

  private warn(what: string, error: unknown): void {
    this.logger.warn(`${what} failed: ${String(error)}`);
  }
}

function toFloorEvent(state: FloorState, workspaceId: string): FloorEvent {
  return {
    workspaceId,
    channelId: state.channelId,
    holder: state.holder,
    since: state.since === null ? null : new Date(state.since).toISOString(),
    expiresAt: state.expiresAt === null ? null : new Date(state.expiresAt).toISOString(),
    queue: state.queue,
    rev: state.rev,
  };
}
