import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { AuthModule } from '../auth/auth.module';
import { AppConfigService } from '../config/app-config.service';
import { FloorVoiceBridge } from '../floor/floor-voice.bridge';
import { FloorModule } from '../floor/floor.module';
import { ListeningModule } from '../listening/listening.module';
import { MessagesModule } from '../messages/messages.module';
import { QUEUES } from '../queues/queues';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { LiveVoiceService } from './live-voice.service';
import { VoiceController } from './voice.controller';
import { VoiceGateway } from './voice.gateway';
import { VoiceService } from './voice.service';
import { LocalVoiceStorage, VoiceStorage } from './voice-storage';

/**
 * Voice messages, recorded (upload) and live (the `voice:*` socket events), audio streaming, and the `voice`
 * object of message views (API and worker; the gateway only binds where a socket server runs).
 */
@Module({
  imports: [
    AuthModule,
    MessagesModule,
    FloorModule,
    ListeningModule,
    BullModule.registerQueue({ name: QUEUES.voice }),
    MulterModule.registerAsync({
      inject: [AppConfigService],
      // No `dest`: multer keeps the file in memory, so the bytes are sniffed before anything is stored.
      useFactory: (config: AppConfigService) => ({
        limits: { fileSize: config.get('VOICE_MAX_BYTES'), files: 1, fields: 10 },
      }),
    }),
  ],
  controllers: [VoiceController],
  providers: [
    VoiceService,
    LiveVoiceService,
    VoiceGateway,
    FloorVoiceBridge,
    WsAckInterceptor,
    {
      provide: VoiceStorage,
      inject: [AppConfigService],
      useFactory: (config: AppConfigService) => new LocalVoiceStorage(config.get('VOICE_STORAGE_DIR')),
    },
  ],
  exports: [VoiceService, VoiceStorage, MessagesModule],
})
export class VoiceModule {}
