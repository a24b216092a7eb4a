import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { AuthModule } from '../auth/auth.module';
import { AppConfigService } from '../config/app-config.service';
import { FloorVoiceBridge } from '../floor/floor-voice.bridge';
import { FloorModule } from '../floor/floor.module';
import { VoiceFloorPolicy } from '../floor/voice-floor.policy';
import { ListeningModule } from '../listening/listening.module';
import { MessagesModule } from '../messages/messages.module';
import { OutboxModule } from '../outbox/outbox.module';
import { QUEUES } from '../queues/queues';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { StorageModule } from '../storage/storage.module';
import { AudioUrlSigner } from './audio-url.signer';
import { LiveFollowStream } from './live-follow.stream';
import { LIVE_VOICE_GUARD } from './live-voice.guard';
import { LiveVoiceHandlers } from './live-voice.handlers';
import { LiveRecordings } from './live-recordings';
import { RecordingFinalizer } from './recording-finalizer';
import { RecordingStore } from './recording-store';
import { RecordingSweeper } from './recording-sweeper';
import { VoiceClipRepository } from './voice-clip.repository';
import { VoiceClips } from './voice-clips.service';
import { VoiceController } from './voice.controller';
import { VoiceFiles } from './voice-file.service';
import { AacRenditions } from './aac-renditions';
import { VoiceGateway } from './voice.gateway';
import { VoiceMessageHooks } from './voice-message-hooks';
import { VoiceService } from './voice.service';
import { VoiceViews } from './voice-views';

/**
 * Voice messages, recorded (upload) and live (the `voice:*` socket events), audio streaming, and the `voice`
 * object of message views (API and worker; the gateway only binds where a socket server runs).
 */
@Module({
  imports: [
    AuthModule,
    MessagesModule,
    OutboxModule,
    StorageModule,
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
    // data and the write path shared by upload, live and the worker
    VoiceClipRepository,
    VoiceClips,
    VoiceFiles,
    AacRenditions,
    VoiceViews,
    AudioUrlSigner,
    VoiceMessageHooks,
    VoiceService,
    // live recordings
    RecordingStore,
    LiveRecordings,
    RecordingFinalizer,
    RecordingSweeper,
    LiveFollowStream,
    LiveVoiceHandlers,
    // Push-to-talk: in a `ptt` channel only the floor's holder starts a recording and sends chunks.
    { provide: LIVE_VOICE_GUARD, useExisting: VoiceFloorPolicy },
    VoiceGateway,
    FloorVoiceBridge,
    WsAckInterceptor,
  ],
  exports: [VoiceClipRepository, VoiceClips, StorageModule, MessagesModule],
})
export class VoiceModule {}
