import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import { channelRoom, FanoutService } from '../fanout/fanout.service';
import { HuddleSignal, parseSignal } from './dto/huddle.dto';
import { HuddleParticipant, HuddleState, HuddleStore } from './huddle.store';
import { iceServersFor, urlList } from './turn-credentials';

/** The socket asking, as the gateway knows it. */
export interface HuddleCaller {
  userId: string;
  socketId: string;
  /** False once the socket is gone (a join that raced a disconnect is undone). */
  connected(): boolean;
}

/** This node's socket in a huddle: one huddle per socket. */
interface LocalParticipant {
  userId: string;
  channelId: string;
  workspaceId: string;
}

/**
 * Huddles: who is in a channel's call (Redis, shared by every node) and the relay of WebRTC signals
 * between them. Media never passes through Pigeon: peers connect directly or through TURN.
 */
@Injectable()
export class HuddlesService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(HuddlesService.name);
  /** Sockets of this node in a huddle, by socket id: their leases are renewed from here. */
  readonly local = new Map<string, LocalParticipant>();
  /**
   * Signals, joins, mute and speaking changes per socket (each change is a room event): per node, as a
   * socket lives on one node, so no Redis round trip per signal.
   */
  private readonly signals: RateLimiterMemory;

  constructor(
    private readonly store: HuddleStore,
    private readonly access: AccessService,
    private readonly fanout: FanoutService,
    private readonly config: AppConfigService,
  ) {
    const burst = config.get('HUDDLE_SIGNAL_BURST');
    this.signals = new RateLimiterMemory({
      keyPrefix: 'huddle-signal',
      points: burst,
      duration: Math.max(1, Math.round(burst / config.get('HUDDLE_SIGNAL_RATE_PER_SECOND'))),
    });
  }

  async join(caller: HuddleCaller, channelId: string) {
    await this.consumeSignal(caller.socketId);
    const access = await this.access.requireChannelMember(channelId, caller.userId);
    const current = this.local.get(caller.socketId);
    if (current && current.channelId !== channelId) await this.remove(caller.socketId);
    const participant: HuddleParticipant = {
      userId: caller.userId,
      socketId: caller.socketId,
      muted: false,
      speaking: false,
      joinedAt: new Date().toISOString(),
    };
    const cap = this.config.get('HUDDLE_MAX_PARTICIPANTS');
    const joined = await this.store.join(channelId, participant, {
      workspaceId: access.workspaceId,
      cap,
      leaseMs: this.config.get('HUDDLE_LEASE_MS'),
      newHuddleId: randomUUID(),
    });
    if (joined.status === 'full') {
      if (joined.purged > 0) this.announce(channelId, joined);
      throw new AppException(ErrorCode.LIMIT_REACHED, `At most ${cap} participants per huddle`);
    }
    this.local.set(caller.socketId, { userId: caller.userId, channelId, workspaceId: access.workspaceId });
    if (!caller.connected()) {
      await this.remove(caller.socketId);
      throw AppException.notFound('Huddle');
    }
    if (joined.status === 'joined' || joined.purged > 0) this.announce(channelId, joined);
    return {
      huddleId: joined.huddleId as string,
      participants: joined.participants,
      ...iceServersFor(
        {
          stunUrls: urlList(this.config.get('STUN_URLS')),
          turnUrls: urlList(this.config.get('TURN_URLS')),
          turnSecret: this.config.get('TURN_SECRET'),
          ttlSeconds: this.config.get('TURN_TTL_SECONDS'),
        },
        caller.userId,
      ),
    };
  }

  async leave(caller: HuddleCaller, channelId: string): Promise<void> {
    await this.access.requireChannelMember(channelId, caller.userId);
    if (this.local.get(caller.socketId)?.channelId !== channelId) throw AppException.notFound('Huddle participant');
    await this.remove(caller.socketId);
  }

  async signal(caller: HuddleCaller, channelId: string, toSocketId: string, raw: unknown): Promise<void> {
    await this.consumeSignal(caller.socketId);
    await this.access.requireChannelMember(channelId, caller.userId);
    if (toSocketId === caller.socketId) throw AppException.validation('A socket cannot signal itself');
    const [from, to] = await this.store.participants(channelId, [caller.socketId, toSocketId]);
    // The target must still be a member too: a removed member's socket may not have been swept yet.
    if (!from || !to || !(await this.access.isChannelMember(channelId, to.userId))) throw AppException.notFound('Huddle participant');
    const signal = parseSignal(raw) as HuddleSignal;
    this.fanout.emit(toSocketId, 'huddle:signal', { channelId, fromSocketId: caller.socketId, fromUserId: caller.userId, signal });
  }

  async setFlag(caller: HuddleCaller, channelId: string, field: 'muted' | 'speaking', value: boolean): Promise<void> {
    await this.consumeSignal(caller.socketId);
    await this.access.requireChannelMember(channelId, caller.userId);
    const updated = await this.store.update(channelId, caller.socketId, field, value);
    if (updated.status === 'missing') throw AppException.notFound('Huddle participant');
    if (updated.status === 'changed') this.announce(channelId, updated);
  }

  async get(caller: HuddleCaller, channelId: string) {
    const access = await this.access.requireChannelMember(channelId, caller.userId);
    const current = await this.store.state(channelId);
    return { workspaceId: access.workspaceId, channelId, huddleId: current.huddleId, rev: current.rev, participants: current.participants };
  }

  /** The socket disconnected (or lost access): it leaves its huddle. */
  async socketGone(socketId: string): Promise<void> {
    await this.signals.delete(socketId);
    if (this.local.has(socketId)) await this.remove(socketId);
  }

  /** Removes this node's sockets of the user from huddles of the channel (or, without one, of the workspace). */
  async evict(change: { workspaceId: string; userId?: string; channelId?: string }): Promise<void> {
    const evicted = [...this.local.entries()].filter(
      ([, p]) =>
        p.workspaceId === change.workspaceId &&
        (change.userId === undefined || p.userId === change.userId) &&
        (change.channelId === undefined || p.channelId === change.channelId),
    );
    await Promise.all(evicted.map(([socketId]) => this.remove(socketId)));
  }

  /** Renews the leases of this node's participants, then drops everyone whose node stopped renewing. */
  async renewAndSweep(): Promise<void> {
    const byChannel = new Map<string, string[]>();
    for (const [socketId, p] of this.local) byChannel.set(p.channelId, [...(byChannel.get(p.channelId) ?? []), socketId]);
    for (const [channelId, socketIds] of byChannel) {
      const gone = await this.store.renew(channelId, socketIds, this.config.get('HUDDLE_LEASE_MS'));
      // Swept while this node could not reach Redis: the client saw the `huddle` event without itself.
      for (const socketId of gone) if (this.local.get(socketId)?.channelId === channelId) this.local.delete(socketId);
    }
    for (const changed of await this.store.sweep()) this.announce(changed.channelId, changed);
  }

  /** A rolling restart should not leave ghosts for a lease: this node's participants leave first. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.local.keys()].map((socketId) => this.remove(socketId)));
  }

  private async remove(socketId: string): Promise<void> {
    const participant = this.local.get(socketId);
    if (!participant) return;
    this.local.delete(socketId);
    const left = await this.store.leave(participant.channelId, socketId);
    if (left.removed) this.announce(participant.channelId, left);
  }

  private async consumeSignal(socketId: string): Promise<void> {
    try {
      await this.signals.consume(socketId);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw AppException.rateLimited(Math.max(1, error.msBeforeNext));
      throw error;
    }
  }

  /** `huddle` to the channel room, after the caller's ack has gone out. */
  private announce(channelId: string, state: HuddleState): void {
    if (!state.huddleId || !state.workspaceId) {
      this.logger.warn(`Huddle of ${channelId} has no id; event skipped`);
      return;
    }
    const payload = { workspaceId: state.workspaceId, channelId, huddleId: state.huddleId, rev: state.rev, participants: state.participants };
    setImmediate(() => this.fanout.emit(channelRoom(channelId), 'huddle', payload));
  }
}
