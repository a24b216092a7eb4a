import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MessagesModule } from '../messages/messages.module';
import { PresenceModule } from '../presence/presence.module';
import { ConnectionBootstrap } from './connection-bootstrap.service';
import { MembershipRoomsService } from './membership-rooms.service';
import { RealtimeGateway } from './realtime.gateway';
import { RealtimeRepository } from './realtime.repository';
import { SocketExpiry } from './socket-expiry';
import { SocketHandshake } from './socket-handshake';
import { TypingService } from './typing.service';
import { WsAckInterceptor } from './ws-ack.interceptor';

@Module({
  imports: [AuthModule, MessagesModule, PresenceModule],
  providers: [RealtimeGateway, SocketHandshake, SocketExpiry, RealtimeRepository, ConnectionBootstrap, MembershipRoomsService, TypingService, WsAckInterceptor],
})
export class RealtimeModule {}
