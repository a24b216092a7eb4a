import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { ChannelModeController } from './channel-mode.controller';
import { ChannelModeRepository } from './channel-mode.repository';
import { ChannelModeService } from './channel-mode.service';
import { FloorController } from './floor.controller';
import { FloorGateway } from './floor.gateway';
import { FloorRepository } from './floor.repository';
import { FloorService } from './floor.service';
import { VoiceFloorPolicy } from './voice-floor.policy';

/**
 * Push-to-talk: channel mode, the floor (Redis lease), its socket events, and the policy live voice
 * asks before recording. VoiceModule imports it and provides FloorVoiceBridge.
 */
@Module({
  imports: [MessagesModule],
  controllers: [ChannelModeController, FloorController],
  providers: [FloorRepository, ChannelModeRepository, FloorService, ChannelModeService, FloorGateway, VoiceFloorPolicy, WsAckInterceptor],
  exports: [FloorService, VoiceFloorPolicy, ChannelModeRepository],
})
export class FloorModule {}
