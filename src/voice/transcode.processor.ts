import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QUEUES, VoiceTranscodeJob } from '../queues/queues';
import { TranscodeService } from './transcode.service';

/**
 * Worker only. One transcode at a time per worker: ffmpeg already uses the cores it gets.
 * The lock (VOICE_JOB_LOCK_MS, default 30 s) bounds how long a killed worker's job waits before
 * another worker, or the restarted one, takes it over.
 */
const LOCK_MS = Number(process.env.VOICE_JOB_LOCK_MS ?? 30_000);

@Processor(QUEUES.voice, { concurrency: 1, lockDuration: LOCK_MS, stalledInterval: Math.min(LOCK_MS, 30_000) })
export class TranscodeProcessor extends WorkerHost {
  constructor(private readonly transcoder: TranscodeService) {
    super();
  }

  async process(job: Job<VoiceTranscodeJob>): Promise<void> {
    await this.transcoder.transcode(job.data.voiceId);
  }
}
