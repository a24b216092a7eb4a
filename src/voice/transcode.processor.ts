import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QUEUES, VoiceTranscodeJob } from '../queues/queues';
import { TranscodeService } from './transcode.service';

/** Worker only. One transcode at a time per worker: ffmpeg already uses the cores it gets. */
@Processor(QUEUES.voice, { concurrency: 1 })
export class TranscodeProcessor extends WorkerHost {
  constructor(private readonly transcoder: TranscodeService) {
    super();
  }

  async process(job: Job<VoiceTranscodeJob>): Promise<void> {
    await this.transcoder.transcode(job.data.voiceId);
  }
}
