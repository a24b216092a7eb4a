import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QUEUES, TRANSCODE_JOB_OPTIONS, VOICE_TRANSCODE_JOB, VoiceTranscodeJob } from '../queues/queues';
import { OutboxRepository } from './outbox.repository';

/**
 * Queues the transcode job of `voice.transcode` intents (job id = voice id). Only a clip still
 * `processing` gets one. A job that exists and will still run is left alone; one that ended
 * (completed or failed) while its clip is still `processing` lost its outcome, so it is replaced:
 * the transcoder leaves a clip that is already ready or failed as it is.
 */
@Injectable()
export class VoiceJobDispatcher {
  constructor(
    @InjectQueue(QUEUES.voice) private readonly queue: Queue<VoiceTranscodeJob>,
    private readonly outbox: OutboxRepository,
  ) {}

  async dispatch(voiceIds: string[]): Promise<void> {
    const statuses = await this.outbox.voiceStatuses([...new Set(voiceIds)]);
    for (const [voiceId, status] of statuses) {
      if (status !== 'processing') continue;
      const job = await this.queue.getJob(voiceId);
      if (job) {
        const state = await job.getState();
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
        await job.remove();
      }
      await this.queue.add(VOICE_TRANSCODE_JOB, { voiceId }, { jobId: voiceId, ...TRANSCODE_JOB_OPTIONS });
    }
  }
}
