import { Injectable } from '@nestjs/common';
import type { Recording } from './recording-store';

const RECORDING_CACHE_MAX = 10_000;

/**
 * This node's memory of live recordings: their facts by voice id (immutable, so caching is safe;
 * bounded, oldest dropped first) and which of its sockets feed which recordings, to finalize them on
 * disconnect.
 */
@Injectable()
export class LiveRecordings {
  private readonly recordings = new Map<string, Recording>();
  private readonly speakerSockets = new Map<string, Set<string>>();

  get(voiceId: string): Recording | undefined {
    return this.recordings.get(voiceId);
  }

  remember(recording: Recording): void {
    if (this.recordings.size >= RECORDING_CACHE_MAX) this.recordings.delete(this.recordings.keys().next().value!);
    this.recordings.set(recording.voiceId, recording);
  }

  /** The recording ended (on any path): nothing of it is kept. */
  forget(voiceId: string): void {
    this.recordings.delete(voiceId);
    for (const [socketId, voiceIds] of this.speakerSockets) {
      if (voiceIds.delete(voiceId) && voiceIds.size === 0) this.speakerSockets.delete(socketId);
    }
  }

  trackSpeaker(socketId: string, voiceId: string): void {
    let voiceIds = this.speakerSockets.get(socketId);
    if (!voiceIds) this.speakerSockets.set(socketId, (voiceIds = new Set()));
    voiceIds.add(voiceId);
  }

  /** The recordings `socketId` fed, now untracked. */
  releaseSocket(socketId: string): string[] {
    const voiceIds = this.speakerSockets.get(socketId);
    this.speakerSockets.delete(socketId);
    return voiceIds ? [...voiceIds] : [];
  }
}
