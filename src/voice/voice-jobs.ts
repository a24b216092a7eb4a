import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { QUEUES, VOICE_TRANSCODE_JOB, VoiceTranscodeJob } from '../queues/queues';

/** The `voice` queue's job options, for uploads and live recordings alike (job id = voice id). */
export const TRANSCODE_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: 1000,
  removeOnFail: 5000,
};

/**
 * The one way a voice gets its transcode job. The job id is the voice id, so a repeated enqueue
 * collapses into the first job.
 */
@Injectable()
export class VoiceJobs {
  constructor(@InjectQueue(QUEUES.voice) private readonly queue: Queue<VoiceTranscodeJob>) {}

  async enqueueTranscode(voiceId: string): Promise<void> {
    await this.queue.add(VOICE_TRANSCODE_JOB, { voiceId }, { jobId: voiceId, ...TRANSCODE_JOB_OPTIONS });
  }
}
