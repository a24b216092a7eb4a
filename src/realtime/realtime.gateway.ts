import { Logger, UseFilters, UseInterceptors } from '@nestjs/common';
import {
  ConnectedSocket,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Namespace } from 'socket.io';
import { MembershipBus, MembershipChange } from '../access/membership-bus.service';
import { AppException } from '../common/app.exception';
import { OnSessionRevoked, SessionRevokedHandler } from '../auth/session-revocations.service';
import { TokenService } from '../auth/token.service';
import { RT_NAMESPACE } from '../fanout/fanout.service';
import { SocketNamespaceOwner, SocketNamespaceSource } from '../fanout/socket-namespace';
import { EditMessageDto, MessageIdDto, ReactionDto, SendMessageDto } from '../messages/dto/message.dto';
import { MessageCommands } from '../messages/message-commands.service';
import { MessageQueries } from '../messages/message-queries.service';
import { ReadMarks } from '../messages/read-marks.service';
import { SendPipeline } from '../messages/send/send-pipeline';
import { PresenceService } from '../presence/presence.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { SocketExpiry } from './socket-expiry';
import { SocketHandshake } from './socket-handshake';
import type { PigeonSocket } from './socket-handshake';
import { ConnectionBootstrap, sessionRoom } from './connection-bootstrap.service';
import { AuthRefreshDto, ChannelReadDto, PresenceSetDto, SyncDto, TypingDto } from './dto/realtime.dto';
import { WsPayload } from './payload.pipe';
import { WsAckInterceptor } from './ws-ack.interceptor';
import { TypingService } from './typing.service';
import { WsExceptionFilter } from './ws-exception.filter';

/**
 * The `/rt` namespace: handshake auth, rooms, and every client-to-server event of the contract.
 * It translates and delegates. It owns this process's namespace (Nest fills it through
 * `@WebSocketServer()`): FanoutService finds it through `@SocketNamespaceSource()`, and
 * MembershipRoomsService reads it from here.
 */
@WebSocketGateway({ namespace: RT_NAMESPACE })
@SocketNamespaceSource()
@SessionRevokedHandler()
@UseInterceptors(WsAckInterceptor)
@UseFilters(WsExceptionFilter)
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, SocketNamespaceOwner, OnSessionRevoked {
  private readonly logger = new Logger(RealtimeGateway.name);
  @WebSocketServer() readonly namespace: Namespace | undefined;

  constructor(
    private readonly tokens: TokenService,
    private readonly handshake: SocketHandshake,
    private readonly expiry: SocketExpiry,
    private readonly membership: MembershipBus,
    private readonly pipeline: SendPipeline,
    private readonly commands: MessageCommands,
    private readonly queries: MessageQueries,
    private readonly readMarks: ReadMarks,
    private readonly typingRelay: TypingService,
    private readonly bootstrap: ConnectionBootstrap,
    private readonly presence: PresenceService,
    private readonly rateLimit: RateLimitService,
  ) {}

  afterInit(namespace: Namespace): void {
    namespace.use(this.handshake.middleware);
    // Other nodes' membership changes: apply here, then acknowledge so the caller can answer.
    namespace.on('membership', (change: MembershipChange, ack?: () => void) => {
      void this.membership.apply(change).finally(() => ack?.());
    });
  }

  /** A logged-out or reused-token session: its sockets on this node go at once. */
  onSessionRevoked(sessionId: string): void {
    this.namespace?.local.in(sessionRoom(sessionId)).disconnectSockets(true);
  }

  async handleConnection(socket: PigeonSocket): Promise<void> {
    const { userId } = socket.data;
    try {
      const { rooms, ready, workspaceIds } = await this.bootstrap.load(userId, socket.data.sessionId);
      if (socket.disconnected) return;
      socket.join(rooms);
      this.expiry.schedule(socket);
      socket.emit('ready', ready);
      this.handshake.release(socket);
      await this.presence.connected(userId, socket.id, workspaceIds);
    } catch (error) {
      this.logger.error({ err: error }, 'Connection setup failed');
      socket.disconnect(true);
    } finally {
      this.handshake.release(socket);
    }
  }

  async handleDisconnect(socket: PigeonSocket): Promise<void> {
    this.handshake.release(socket);
    this.expiry.cancel(socket);
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
    const result = await this.pipeline.send(userId, dto);
    return result.message;
  }

  @SubscribeMessage('message:edit')
  edit(@ConnectedSocket() socket: PigeonSocket, @WsPayload(EditMessageDto) dto: EditMessageDto) {
    return this.commands.edit(socket.data.userId, dto.messageId, dto.body);
  }

  @SubscribeMessage('message:delete')
  delete(@ConnectedSocket() socket: PigeonSocket, @WsPayload(MessageIdDto) dto: MessageIdDto) {
    return this.commands.delete(socket.data.userId, dto.messageId);
  }

  @SubscribeMessage('reaction:add')
  async addReaction(@ConnectedSocket() socket: PigeonSocket, @WsPayload(ReactionDto) dto: ReactionDto) {
    await this.commands.addReaction(socket.data.userId, dto.messageId, dto.emoji);
    return {};
  }

  @SubscribeMessage('reaction:remove')
  async removeReaction(@ConnectedSocket() socket: PigeonSocket, @WsPayload(ReactionDto) dto: ReactionDto) {
    await this.commands.removeReaction(socket.data.userId, dto.messageId, dto.emoji);
    return {};
  }

  // ------------------------------------------------------------------ catch-up and reads

  @SubscribeMessage('sync')
  sync(@ConnectedSocket() socket: PigeonSocket, @WsPayload(SyncDto) dto: SyncDto) {
    return this.queries.sync(socket.data.userId, dto.channels, dto.limit);
  }

  @SubscribeMessage('channel:read')
  read(@ConnectedSocket() socket: PigeonSocket, @WsPayload(ChannelReadDto) dto: ChannelReadDto) {
    return this.readMarks.markRead(socket.data.userId, dto.channelId, dto.seq);
  }

  @SubscribeMessage('typing')
  async typing(@ConnectedSocket() socket: PigeonSocket, @WsPayload(TypingDto) dto: TypingDto) {
    await this.typingRelay.typing(socket.data.userId, dto.channelId, dto.topicId ?? null);
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
    this.expiry.schedule(socket);
    return { expiresAt: new Date(verified.expiresAt).toISOString() };
  }
}
