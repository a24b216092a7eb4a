import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { RecordingStore } from './recording-store';
import { VoiceClipRepository } from './voice-clip.repository';

const FOLLOW_POLL_MS = 100;
/** How often a quiet stream is checked against the clip, in case its end marker was lost. */
const STATUS_CHECK_MS = 2000;

/** GET /api/voice/:id/audio of a recording in progress: the bytes so far, then each new chunk, until the end. */
@Injectable()
export class LiveFollowStream {
  constructor(
    private readonly store: RecordingStore,
    private readonly repository: VoiceClipRepository,
  ) {}

  /**
   * Every chunk so far, then each new one, until the end marker. Polls the stream (XREAD without BLOCK)
   * on the shared connection, so a listener costs no Redis connection of its own.
   */
  async *follow(voiceId: string): AsyncGenerator<Buffer> {
    const deadline = Date.now() + this.store.liveTtlMs();
    let lastId = '0-0';
    let lastCheck = Date.now();
    let finalRead = false;
    while (Date.now() < deadline) {
      const entries = await this.store.read(voiceId, lastId);
      for (const entry of entries) {
        lastId = entry.id;
        if ('end' in entry) return;
        yield entry.data;
      }
      if (entries.length > 0) continue;
      if (finalRead) return;
      // A stream that lost its end marker (Redis restarted, keys expired) must not hold the response open.
      if (Date.now() - lastCheck > STATUS_CHECK_MS) {
        lastCheck = Date.now();
        if ((await this.repository.status(voiceId)) !== 'recording') finalRead = true;
        continue;
      }
      await sleep(FOLLOW_POLL_MS);
    }
  }
}
