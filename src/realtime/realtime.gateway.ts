import { Inject, Logger, UseFilters, UseInterceptors } from '@nestjs/common';
import {
  ConnectedSocket,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { InjectDataSource } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import type { Namespace, Socket } from 'socket.io';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';
import { MembershipBus, MembershipChange } from '../access/membership-bus.service';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import { SessionRevocations } from '../auth/session-revocations.service';
import { TokenService } from '../auth/token.service';
import { channelRoom, FanoutService, RT_NAMESPACE, userRoom, workspaceRoom } from '../fanout/fanout.service';
import { EditMessageDto, MessageIdDto, ReactionDto, SendMessageDto } from '../messages/dto/message.dto';
import { MessagesService } from '../messages/messages.service';
import { PresenceService } from '../presence/presence.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { REDIS } from '../redis/redis.module';
import { AuthRefreshDto, ChannelReadDto, PresenceSetDto, SyncDto, TypingDto } from './dto/realtime.dto';
import { WsPayload } from './payload.pipe';
import { WsAckInterceptor } from './ws-ack.interceptor';
import { WsExceptionFilter } from './ws-exception.filter';
import { runAsSystem } from '../tenancy/tenant-context';

/** What the handshake learns about a socket; kept on `socket.data`. */
interface SocketState {
  userId: string;
  expiresAt: number;
  sessionId?: string;
  expiryTimers: NodeJS.Timeout[];
}

/** Room of a session's sockets, so revoking the session disconnects exactly those. */
const sessionRoom = (sessionId: string) => `session:${sessionId}`;

const EXPIRY_WARNING_MS = 60_000;

type PigeonSocket = Socket & { data: SocketState };

function handshakeError(code: 'UNAUTHORIZED' | 'FORBIDDEN' | 'LIMIT_REACHED', message: string): Error {
  // socket.io sends `message` and `data` to the client as its connect_error.
  return Object.assign(new Error(code), { data: { code, message } });
}

/** The `/rt` namespace: handshake auth, rooms, and every client-to-server event of the contract. */
@WebSocketGateway({ namespace: RT_NAMESPACE })
@UseInterceptors(WsAckInterceptor)
@UseFilters(WsExceptionFilter)
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(RealtimeGateway.name);
  private namespace: Namespace;

  constructor(
    private readonly tokens: TokenService,
    private readonly config: AppConfigService,
    private readonly access: AccessService,
    private readonly membership: MembershipBus,
    private readonly messages: MessagesService,
    private readonly fanout: FanoutService,
    private readonly presence: PresenceService,
    private readonly rateLimit: RateLimitService,
    private readonly sessions: SessionRevocations,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  afterInit(namespace: Namespace): void {
    this.namespace = namespace;
    const allowed = this.config.corsOrigins;
    namespace.use((socket, next) => {
      const origin = socket.handshake.headers.origin;
      // Browsers always send Origin; a client without one (a server, the SDK in Node) is judged by its token.
      if (origin && allowed !== '*' && !allowed.includes(origin)) {
        return next(handshakeError('FORBIDDEN', 'Origin not allowed'));
      }
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      let verified;
      try {
        verified = this.tokens.verifyAccess(auth?.token);
      } catch {
        return next(handshakeError('UNAUTHORIZED', 'Invalid or expired access token'));
      }
      const { userId, expiresAt, sessionId } = verified;
      // Live sockets of the user on every node, from the presence set (ids scored by expiry).
      this.presence
        .liveSocketCount(userId)
        .then((live) => {
          const max = this.config.get('SOCKETS_PER_USER_MAX');
          if (live >= max) return next(handshakeError('LIMIT_REACHED', `At most ${max} connections per user`));
          (socket.data as SocketState) = { userId, expiresAt, sessionId, expiryTimers: [] };
          next();
        })
        .catch((error: unknown) => {
          this.logger.warn(`Socket count unavailable, admitting: ${String(error)}`);
          (socket.data as SocketState) = { userId, expiresAt, sessionId, expiryTimers: [] };
          next();
        });
    });
    this.sessions.onRevoked((sessionId) => namespace.local.in(sessionRoom(sessionId)).disconnectSockets(true));
    this.fanout.attach(namespace);
    this.membership.attachRooms({
      apply: (change) => void this.applyMembership(change),
      broadcastAndWait: (change) => this.broadcastMembership(change),
    });
    // Other nodes' membership changes: apply locally, then acknowledge so the caller can answer.
    namespace.on('membership', (change: MembershipChange, ack?: () => void) => {
      this.access.invalidate(change);
      void this.applyMembership(change).finally(() => ack?.());
    });
  }

  async handleConnection(socket: PigeonSocket): Promise<void> {
    const { userId } = socket.data;
    try {
      const rows: { workspace_id: string; role: string; channel_id: string | null; head_seq: string | null; last_read_seq: string | null }[] =
        await this.dataSource.query(
          `SELECT wm.workspace_id, wm.role, c.id AS channel_id, c.head_seq, cm.last_read_seq
             FROM workspace_members wm
             LEFT JOIN channel_members cm ON cm.user_id = wm.user_id AND cm.workspace_id = wm.workspace_id
             LEFT JOIN channels c ON c.id = cm.channel_id
            WHERE wm.user_id = $1
            ORDER BY wm.joined_at, c.created_at`,
          [userId],
        );
      const workspaces = new Map<string, { id: string; role: string; channels: { id: string; headSeq: number; lastReadSeq: number }[] }>();
      const rooms = [userRoom(userId)];
      if (socket.data.sessionId) rooms.push(sessionRoom(socket.data.sessionId));
      for (const row of rows) {
        let workspace = workspaces.get(row.workspace_id);
        if (!workspace) {
          workspace = { id: row.workspace_id, role: row.role, channels: [] };
          workspaces.set(row.workspace_id, workspace);
          rooms.push(workspaceRoom(row.workspace_id));
        }
        if (row.channel_id) {
          workspace.channels.push({ id: row.channel_id, headSeq: Number(row.head_seq), lastReadSeq: Number(row.last_read_seq) });
          rooms.push(channelRoom(row.channel_id));
        }
      }
      if (socket.disconnected) return;
      socket.join(rooms);
      this.scheduleExpiry(socket);
      socket.emit('ready', { userId, workspaces: [...workspaces.values()] });
      await this.presence.connected(userId, socket.id, [...workspaces.keys()]);
    } catch (error) {
      this.logger.error({ err: error }, 'Connection setup failed');
      socket.disconnect(true);
    }
  }

  async handleDisconnect(socket: PigeonSocket): Promise<void> {
    socket.data.expiryTimers?.forEach(clearTimeout);
    if (!socket.data.userId) return;
    await this.presence.disconnected(socket.data.userId, socket.id).catch((error: unknown) => {
      this.logger.warn(`Presence update failed: ${String(error)}`);
    });
  }

  // ------------------------------------------------------------------ messages

  @SubscribeMessage('message:send')
  async send(@ConnectedSocket() socket: PigeonSocket, @WsPayload(SendMessageDto) dto: SendMessageDto) {
    const { userId } = socket.data;
    // Every attempt counts against the limit; send() then authorizes from the membership cache.
    await this.rateLimit.consumeWrite(userId);
    const result = await this.messages.send(userId, dto);
    return result.message;
  }

  @SubscribeMessage('message:edit')
  edit(@ConnectedSocket() socket: PigeonSocket, @WsPayload(EditMessageDto) dto: EditMessageDto) {
    return this.messages.edit(socket.data.userId, dto.messageId, dto.body);
  }

  @SubscribeMessage('message:delete')
  delete(@ConnectedSocket() socket: PigeonSocket, @WsPayload(MessageIdDto) dto: MessageIdDto) {
    return this.messages.delete(socket.data.userId, dto.messageId);
  }

  @SubscribeMessage('reaction:add')
  async addReaction(@ConnectedSocket() socket: PigeonSocket, @WsPayload(ReactionDto) dto: ReactionDto) {
    await this.messages.addReaction(socket.data.userId, dto.messageId, dto.emoji);
    return {};
  }

  @SubscribeMessage('reaction:remove')
  async removeReaction(@ConnectedSocket() socket: PigeonSocket, @WsPayload(ReactionDto) dto: ReactionDto) {
    await this.messages.removeReaction(socket.data.userId, dto.messageId, dto.emoji);
    return {};
  }

  // ------------------------------------------------------------------ catch-up and reads

  @SubscribeMessage('sync')
  async sync(@ConnectedSocket() socket: PigeonSocket, @WsPayload(SyncDto) dto: SyncDto) {
    const { userId } = socket.data;
    const distinct = new Set(dto.channels.map((c) => c.channelId));
    const maxChannels = this.config.get('SYNC_MAX_CHANNELS');
    if (distinct.size > maxChannels) {
      const message = `at most ${maxChannels} distinct channels per sync`;
      throw AppException.validation(message, [{ field: 'channels', message }]);
    }
    await this.rateLimit.consumeSync(userId);
    for (const channelId of distinct) await this.access.requireChannelMember(channelId, userId);
    const limit = Math.min(dto.limit ?? this.config.get('SYNC_PAGE_LIMIT'), this.config.get('SYNC_PAGE_LIMIT'));
    return { channels: await this.messages.syncChannels(dto.channels, limit, this.config.get('SYNC_MAX_EVENTS')) };
  }

  @SubscribeMessage('channel:read')
  read(@ConnectedSocket() socket: PigeonSocket, @WsPayload(ChannelReadDto) dto: ChannelReadDto) {
    return this.messages.markRead(socket.data.userId, dto.channelId, dto.seq);
  }

  @SubscribeMessage('typing')
  async typing(@ConnectedSocket() socket: PigeonSocket, @WsPayload(TypingDto) dto: TypingDto) {
    const { userId } = socket.data;
    const access = await this.access.requireChannelMember(dto.channelId, userId);
    // One typing relay per user and channel per interval, across nodes; extras are dropped silently.
    const first = await this.redis.set(`typing:${userId}:${dto.channelId}`, '1', 'PX', this.config.get('TYPING_INTERVAL_MS'), 'NX');
    if (first) {
      this.fanout.emit(
        channelRoom(dto.channelId),
        'typing',
        { workspaceId: access.workspaceId, channelId: dto.channelId, topicId: dto.topicId ?? null, userId },
        { except: userRoom(userId) },
      );
    }
    return {};
  }

  @SubscribeMessage('presence:set')
  async setPresence(@ConnectedSocket() socket: PigeonSocket, @WsPayload(PresenceSetDto) dto: PresenceSetDto) {
    await this.presence.set(socket.data.userId, dto.status);
    return {};
  }

  @SubscribeMessage('auth:refresh')
  refreshAuth(@ConnectedSocket() socket: PigeonSocket, @WsPayload(AuthRefreshDto) dto: AuthRefreshDto) {
    const verified = this.tokens.verifyAccess(dto.token);
    if (verified.userId !== socket.data.userId) throw AppException.unauthorized('Token belongs to another user');
    socket.data.expiresAt = verified.expiresAt;
    if (verified.sessionId !== socket.data.sessionId) {
      // The socket now lives on the new token's session: revoking that one must end it.
      if (socket.data.sessionId) void socket.leave(sessionRoom(socket.data.sessionId));
      if (verified.sessionId) void socket.join(sessionRoom(verified.sessionId));
      socket.data.sessionId = verified.sessionId;
    }
    this.scheduleExpiry(socket);
    return { expiresAt: new Date(verified.expiresAt).toISOString() };
  }

  // ------------------------------------------------------------------ internals

  private scheduleExpiry(socket: PigeonSocket): void {
    socket.data.expiryTimers.forEach(clearTimeout);
    const remaining = socket.data.expiresAt - Date.now();
    // A minute ahead; a token that lives less than two minutes is warned about at half-life.
    const warnIn = remaining > 2 * EXPIRY_WARNING_MS ? remaining - EXPIRY_WARNING_MS : Math.max(0, remaining / 2);
    socket.data.expiryTimers = [
      setTimeout(() => socket.emit('auth:expiring', { expiresAt: new Date(socket.data.expiresAt).toISOString() }), warnIn),
      setTimeout(() => socket.disconnect(true), Math.max(0, remaining)),
    ];
  }

  /** This node's sockets follow a membership change. */
  private applyMembership(change: MembershipChange): Promise<void> {
    // Another user's membership, possibly of a workspace the caller just left: a named cross-tenant scope.
    return runAsSystem('realtime.membership', () => this.followMembership(change));
  }

  private async followMembership(change: MembershipChange): Promise<void> {
    if (!change.userId) return;
    const sockets = this.namespace.local.in(userRoom(change.userId));
    if (change.removed) {
      if (change.channelId) {
        sockets.socketsLeave(channelRoom(change.channelId));
        return;
      }
      // Removed from the workspace: leave it and each of its channel rooms.
      const channelIds: { id: string }[] = await this.dataSource.query('SELECT id FROM channels WHERE workspace_id = $1', [
        change.workspaceId,
      ]);
      sockets.socketsLeave([workspaceRoom(change.workspaceId), ...channelIds.map((c) => channelRoom(c.id))]);
      return;
    }
    if (change.channelId) {
      if (await this.access.isChannelMember(change.channelId, change.userId)) sockets.socketsJoin(channelRoom(change.channelId));
      return;
    }
    const rows: { channel_id: string }[] = await this.dataSource.query(
      'SELECT channel_id FROM channel_members WHERE user_id = $1 AND workspace_id = $2',
      [change.userId, change.workspaceId],
    );
    sockets.socketsJoin([workspaceRoom(change.workspaceId), ...rows.map((r) => channelRoom(r.channel_id))]);
    this.presence.joinedWorkspace(change.userId, change.workspaceId);
  }

  /** Resolves once every other API node has applied the change (or the wait times out). */
  private broadcastMembership(change: MembershipChange): Promise<void> {
    return new Promise((resolve) => {
      // The Redis adapter times the acknowledgements out after its requestsTimeout (3 s).
      this.namespace.serverSideEmit('membership', change, (error: Error | null) => {
        if (error) this.logger.warn(`Membership change not acknowledged by every node: ${error.message}`);
        resolve();
      });
    });
  }
}
