import { UseFilters, UseInterceptors } from '@nestjs/common';
import { ConnectedSocket, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { RT_NAMESPACE } from '../fanout/fanout.service';
import { WsPayload } from '../realtime/payload.pipe';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { WsExceptionFilter } from '../realtime/ws-exception.filter';
import { VoiceProgressDto } from './dto/listening.dto';
import { ListeningService } from './listening.service';

/** The handshake middleware of RealtimeGateway (same namespace) has set the user. */
type AuthedSocket = Socket & { data: { userId: string } };

/** `voice:progress` on `/rt` (`voice:listened`, the finished mark, stays with live voice). */
@WebSocketGateway({ namespace: RT_NAMESPACE })
@UseInterceptors(WsAckInterceptor)
@UseFilters(WsExceptionFilter)
export class ListeningGateway {
  constructor(private readonly listening: ListeningService) {}

  @SubscribeMessage('voice:progress')
  progress(@ConnectedSocket() socket: AuthedSocket, @WsPayload(VoiceProgressDto) dto: VoiceProgressDto) {
    return this.listening.progress(socket.data.userId, dto.messageId, dto.positionMs);
  }
}
