import { Module } from '@nestjs/common';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { ListeningController } from './listening.controller';
import { ListeningGateway } from './listening.gateway';
import { ListeningRepository } from './listening.repository';
import { ListeningService } from './listening.service';

/** Listening progress, listeners, unheard voice messages and the `voice.listened` webhook event. */
@Module({
  imports: [WebhooksModule],
  controllers: [ListeningController],
  providers: [ListeningRepository, ListeningService, ListeningGateway, WsAckInterceptor],
  exports: [ListeningService],
})
export class ListeningModule {}
