import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { RecordingFinalizer } from './recording-finalizer';
import { RecordingStore } from './recording-store';
import { VoiceClipRepository } from './voice-clip.repository';
import { runAsSystem } from '../tenancy/tenant-context';

const SWEEP_BATCH = 100;

/**
 * Ends recordings whose speaker went silent or away, on any node: works when the speaker's node was
 * killed. API nodes only (started from the gateway's init).
 */
@Injectable()
export class RecordingSweeper implements OnModuleDestroy {
  private readonly logger = new Logger(RecordingSweeper.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: RecordingStore,
    private readonly finalizer: RecordingFinalizer,
    private readonly repository: VoiceClipRepository,
    private readonly config: AppConfigService,
  ) {}

  start(): void {
    if (this.timer) return;
    const every = Math.min(10_000, Math.max(250, Math.floor(this.config.get('VOICE_ABANDON_MS') / 2)));
    this.timer = setInterval(() => {
      void runAsSystem('voice.sweeper', () => this.sweep()).catch((error: unknown) => this.logger.warn(`Voice sweep failed: ${String(error)}`));
    }, every);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Recordings older than VOICE_ABANDON_MS whose `alive` key has expired (no chunk for that long, on any
   * node) are finalized; the finalize lock makes one node do each.
   */
  async sweep(): Promise<void> {
    for (const voiceId of await this.repository.staleRecordings(this.config.get('VOICE_ABANDON_MS'), SWEEP_BATCH)) {
      if (await this.store.isAlive(voiceId)) continue;
      await this.finalizer.finalize(voiceId).catch((error: unknown) =>
        this.logger.warn(`Finalizing abandoned ${voiceId} failed: ${String(error)}`),
      );
    }
  }
}
