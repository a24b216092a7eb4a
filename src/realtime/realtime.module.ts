import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MessagesModule } from '../messages/messages.module';
import { RealtimeGateway } from './realtime.gateway';
import { WsAckInterceptor } from './ws-ack.interceptor';

@Module({
  imports: [AuthModule, MessagesModule],
  providers: [RealtimeGateway, WsAckInterceptor],
})
export class RealtimeModule {}
