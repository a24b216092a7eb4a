import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { RecordingFinalizer } from '../voice/recording-finalizer';
import { ChannelModeRepository } from './channel-mode.repository';
import { FloorLost, FloorService } from './floor.service';
import { runAsSystem } from '../tenancy/tenant-context';

/**
 * A holder who loses the floor (pre-empted, timed out, silent, node gone, released while recording)
 * has its open recording finalized as if it had sent voice:end. Provided by VoiceModule, which owns
 * RecordingFinalizer, so FloorModule stays free of a dependency on voice.
 */
@Injectable()
export class FloorVoiceBridge implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(FloorVoiceBridge.name);
  private subscription: Subscription | null = null;

  constructor(
    private readonly floor: FloorService,
    private readonly channels: ChannelModeRepository,
    private readonly finalizer: RecordingFinalizer,
  ) {}

  onModuleInit(): void {
    // Whoever's action (or timer) took the floor, the recording is the lost holder's: a named scope.
    this.subscription = this.floor.lost$.subscribe((lost) => void runAsSystem('floor.lost', () => this.endRecordings(lost)));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  async endRecordings(lost: FloorLost): Promise<void> {
    // voice:end already finalized it.
    if (lost.reason === 'ended') return;
    try {
      for (const voiceId of await this.channels.openRecordings(lost.channelId, lost.userId)) {
        await this.finalizer.finalize(voiceId);
      }
    } catch (error) {
      // The voice sweeper still ends it after VOICE_ABANDON_MS.
      this.logger.warn(`Ending the recording of ${lost.userId} after losing the floor failed: ${String(error)}`);
    }
  }
}
