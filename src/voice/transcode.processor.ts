import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QUEUES, VoiceTranscodeJob } from '../queues/queues';
import { TranscodeService } from './transcode.service';
import { TranscribeService } from './transcribe.service';

/**
 * Worker only. One transcode at a time per worker: ffmpeg already uses the cores it gets.
 * The lock (VOICE_JOB_LOCK_MS, default 30 s) bounds how long a killed worker's job waits before
 * another worker, or the restarted one, takes it over.
 */
const LOCK_MS = Number(process.env.VOICE_JOB_LOCK_MS ?? 30_000);

// maxStalledCount 3: a job may outlive three worker crashes before BullMQ gives up on it.
@Processor(QUEUES.voice, { concurrency: 1, lockDuration: LOCK_MS, stalledInterval: Math.min(LOCK_MS, 30_000), maxStalledCount: 3 })
export class TranscodeProcessor extends WorkerHost {
  constructor(
    private readonly transcoder: TranscodeService,
    private readonly transcriber: TranscribeService,
  ) {
    super();
  }

  private readonly logger = new Logger(TranscodeProcessor.name);

  async process(job: Job<VoiceTranscodeJob>): Promise<void> {
    await this.transcoder.transcode(job.data.voiceId);
    // After `ready` (also on a re-run, so a crash between the two still gets its transcript).
    await this.transcriber.transcribe(job.data.voiceId);
  }

  /**
   * A job BullMQ will not run again (attempts used up, or stalled too often) must still end its
   * voice: otherwise the clip would stay `processing` forever (found by the worker-kill chaos run).
   */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<VoiceTranscodeJob> | undefined, error: Error): Promise<void> {
    if (!job) return;
    const final =
      error?.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1) || /stalled/i.test(error?.message ?? '');
    if (!final) return;
    await this.transcoder
      .giveUp(job.data.voiceId, `processing failed: ${error?.message ?? 'unknown error'}`.slice(0, 500))
      .catch((giveUpError: unknown) => this.logger.error({ err: giveUpError }, 'Could not mark a voice failed'));
  }
}
