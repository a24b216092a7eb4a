import { Injectable } from '@nestjs/common';
import { FloorService } from './floor.service';

/**
 * What live voice asks the floor (the voice handlers call these three): in a `ptt` channel only the
 * holder records and sends chunks, and the end of its recording frees the floor. In `chat` channels each
 * call is a cached mode lookup and nothing else. The first two have the shape of voice's LiveVoiceGuard,
 * so this class can be provided for it.
 */
@Injectable()
export class VoiceFloorPolicy {
  constructor(private readonly floor: FloorService) {}

  /** Before `voice:start` (after the membership check): FLOOR_NOT_HELD unless the caller holds the floor. */
  beforeStart(input: { userId: string; workspaceId: string; channelId: string }): Promise<void> {
    return this.floor.requireHolder(input.userId, input.channelId);
  }

  /** Before a `voice:chunk` is stored or relayed (after the speaker check): FLOOR_NOT_HELD unless the caller holds the floor. */
  beforeChunk(input: { userId: string; recording: { channelId: string } }): Promise<void> {
    return this.floor.requireHolder(input.userId, input.recording.channelId);
  }

  /** After a successful `voice:end` (the recording is finalized): the floor passes to the next in the queue. */
  afterEnd(input: { userId: string; channelId: string }): Promise<void> {
    return this.floor.recordingEnded(input.userId, input.channelId);
  }
}
