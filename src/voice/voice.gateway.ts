import { UseFilters, UseInterceptors } from '@nestjs/common';
import {
  ConnectedSocket,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { RT_NAMESPACE } from '../fanout/fanout.service';
import { WsPayload } from '../realtime/payload.pipe';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { WsExceptionFilter } from '../realtime/ws-exception.filter';
import { VoiceChunkDto, VoiceEndDto, VoiceListenedDto, VoiceStartDto } from './dto/live-voice.dto';
import { LiveVoiceHandlers } from './live-voice.handlers';
import { RecordingSweeper } from './recording-sweeper';

/** The handshake middleware of RealtimeGateway (same namespace) has set the user. */
type AuthedSocket = Socket & { data: { userId: string } };

/**
 * Live voice events on `/rt`, beside RealtimeGateway: push-to-talk that streams while recording.
 * Nest runs every gateway of a namespace on the same sockets, so this one only adds handlers.
 */
@WebSocketGateway({ namespace: RT_NAMESPACE })
@UseInterceptors(WsAckInterceptor)
@UseFilters(WsExceptionFilter)
export class VoiceGateway implements OnGatewayInit, OnGatewayDisconnect {
  constructor(
    private readonly live: LiveVoiceHandlers,
    private readonly sweeper: RecordingSweeper,
  ) {}

  /** Runs only where a socket server exists (API nodes, not the worker): they sweep abandoned recordings. */
  afterInit(): void {
    this.sweeper.start();
  }

  async handleDisconnect(socket: AuthedSocket): Promise<void> {
    await this.live.speakerDisconnected(socket.id);
  }

  @SubscribeMessage('voice:start')
  start(@ConnectedSocket() socket: AuthedSocket, @WsPayload(VoiceStartDto) dto: VoiceStartDto) {
    return this.live.start(socket.data.userId, socket.id, dto);
  }

  @SubscribeMessage('voice:chunk')
  chunk(@ConnectedSocket() socket: AuthedSocket, @WsPayload(VoiceChunkDto) dto: VoiceChunkDto) {
    return this.live.chunk(socket.data.userId, socket.id, dto);
  }

  @SubscribeMessage('voice:end')
  end(@ConnectedSocket() socket: AuthedSocket, @WsPayload(VoiceEndDto) dto: VoiceEndDto) {
    return this.live.end(socket.data.userId, dto);
  }

  @SubscribeMessage('voice:listened')
  async listened(@ConnectedSocket() socket: AuthedSocket, @WsPayload(VoiceListenedDto) dto: VoiceListenedDto) {
    await this.live.listened(socket.data.userId, dto.messageId);
    return {};
  }
}
