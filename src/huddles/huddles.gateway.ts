import { OnModuleDestroy, UseFilters, UseInterceptors } from '@nestjs/common';
import { ConnectedSocket, OnGatewayDisconnect, OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { AppConfigService } from '../config/app-config.service';
import { RT_NAMESPACE } from '../fanout/fanout.service';
import { WsPayload } from '../realtime/payload.pipe';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { WsExceptionFilter } from '../realtime/ws-exception.filter';
import { HuddleChannelDto, HuddleMuteDto, HuddleSignalDto, HuddleSpeakingDto } from './dto/huddle.dto';
import { HuddleCaller, HuddlesService } from './huddles.service';

/** The handshake middleware of RealtimeGateway (same namespace) has set the user. */
type AuthedSocket = Socket & { data: { userId: string } };

const caller = (socket: AuthedSocket): HuddleCaller => ({
  userId: socket.data.userId,
  socketId: socket.id,
  connected: () => socket.connected,
});

/**
 * Huddle signaling on `/rt`, beside RealtimeGateway: Nest runs every gateway of a namespace on the same
 * sockets, so this one only adds handlers (and leaves the huddle when a socket goes away).
 */
@WebSocketGateway({ namespace: RT_NAMESPACE })
@UseInterceptors(WsAckInterceptor)
@UseFilters(WsExceptionFilter)
export class HuddlesGateway implements OnGatewayInit, OnGatewayDisconnect, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly huddles: HuddlesService,
    private readonly config: AppConfigService,
  ) {}

  /** Only where a socket server runs (API nodes): renew this node's leases and sweep dead nodes' participants. */
  afterInit(): void {
    let running = false;
    this.timer = setInterval(() => {
      if (running) return;
      running = true;
      this.huddles
        .renewAndSweep()
        .catch(() => undefined)
        .finally(() => (running = false));
    }, Math.max(200, Math.floor(this.config.get('HUDDLE_LEASE_MS') / 3)));
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async handleDisconnect(socket: AuthedSocket): Promise<void> {
    await this.huddles.socketGone(socket.id).catch(() => undefined);
  }

  @SubscribeMessage('huddle:join')
  join(@ConnectedSocket() socket: AuthedSocket, @WsPayload(HuddleChannelDto) dto: HuddleChannelDto) {
    return this.huddles.join(caller(socket), dto.channelId);
  }

  @SubscribeMessage('huddle:leave')
  async leave(@ConnectedSocket() socket: AuthedSocket, @WsPayload(HuddleChannelDto) dto: HuddleChannelDto) {
    await this.huddles.leave(caller(socket), dto.channelId);
    return {};
  }

  @SubscribeMessage('huddle:signal')
  async signal(@ConnectedSocket() socket: AuthedSocket, @WsPayload(HuddleSignalDto) dto: HuddleSignalDto) {
    await this.huddles.signal(caller(socket), dto.channelId, dto.toSocketId, dto.signal);
    return {};
  }

  @SubscribeMessage('huddle:mute')
  async mute(@ConnectedSocket() socket: AuthedSocket, @WsPayload(HuddleMuteDto) dto: HuddleMuteDto) {
    await this.huddles.setFlag(caller(socket), dto.channelId, 'muted', dto.muted);
    return {};
  }

  @SubscribeMessage('huddle:speaking')
  async speaking(@ConnectedSocket() socket: AuthedSocket, @WsPayload(HuddleSpeakingDto) dto: HuddleSpeakingDto) {
    await this.huddles.setFlag(caller(socket), dto.channelId, 'speaking', dto.speaking);
    return {};
  }

  @SubscribeMessage('huddle:get')
  get(@ConnectedSocket() socket: AuthedSocket, @WsPayload(HuddleChannelDto) dto: HuddleChannelDto) {
    return this.huddles.get(caller(socket), dto.channelId);
  }
}
