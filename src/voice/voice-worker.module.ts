import { Module } from '@nestjs/common';
import { TranscodeProcessor } from './transcode.processor';
import { TranscodeService } from './transcode.service';
import { TranscribeService } from './transcribe.service';
import { VoiceModule } from './voice.module';

/** The worker's half: the `voice` queue processor (ffmpeg). */
@Module({
  imports: [VoiceModule],
  providers: [TranscodeService, TranscribeService, TranscodeProcessor],
})
export class VoiceWorkerModule {}
