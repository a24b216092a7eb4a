import { UseFilters, UseInterceptors } from '@nestjs/common';
import { ConnectedSocket, OnGatewayDisconnect, OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { RT_NAMESPACE } from '../fanout/fanout.service';
import { WsPayload } from '../realtime/payload.pipe';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { WsExceptionFilter } from '../realtime/ws-exception.filter';
import { FloorReleaseDto, FloorRequestDto } from './dto/floor.dto';
import { FloorService } from './floor.service';

/** The handshake middleware of RealtimeGateway (same namespace) has set the user. */
type AuthedSocket = Socket & { data: { userId: string } };

/** `floor:request` and `floor:release` on `/rt`, beside the other gateways of the namespace. */
@WebSocketGateway({ namespace: RT_NAMESPACE })
@UseInterceptors(WsAckInterceptor)
@UseFilters(WsExceptionFilter)
export class FloorGateway implements OnGatewayInit, OnGatewayDisconnect {
  constructor(private readonly floor: FloorService) {}

  /** Only where a socket server runs (API nodes): they renew leases and sweep expired floors. */
  afterInit(): void {
    this.floor.startTimers();
  }

  async handleDisconnect(socket: AuthedSocket): Promise<void> {
    await this.floor.socketGone(socket.id);
  }

  @SubscribeMessage('floor:request')
  request(@ConnectedSocket() socket: AuthedSocket, @WsPayload(FloorRequestDto) dto: FloorRequestDto) {
    return this.floor.request(socket.data.userId, socket.id, dto.channelId, dto.priority ?? false);
  }

  @SubscribeMessage('floor:release')
  release(@ConnectedSocket() socket: AuthedSocket, @WsPayload(FloorReleaseDto) dto: FloorReleaseDto) {
    return this.floor.release(socket.data.userId, dto.channelId);
  }
}
