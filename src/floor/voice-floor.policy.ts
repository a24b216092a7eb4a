import { Injectable } from '@nestjs/common';
import { FloorService } from './floor.service';

/**
 * What live voice asks the floor (src/voice/live-voice.service.ts calls these three): in a `ptt`
 * channel only the holder records and sends chunks, and the end of its recording frees the floor.
 * In `chat` channels each call is a cached mode lookup and nothing else.
 */
@Injectable()
export class VoiceFloorPolicy {
  constructor(private readonly floor: FloorService) {}

  /** Before `voice:start`: FLOOR_NOT_HELD unless the caller holds the floor. */
  beforeStart(userId: string, channelId: string): Promise<void> {
    return this.floor.requireHolder(userId, channelId);
  }

  /** Before a `voice:chunk` is stored or relayed: FLOOR_NOT_HELD unless the caller holds the floor. */
  beforeChunk(userId: string, channelId: string): Promise<void> {
    return this.floor.requireHolder(userId, channelId);
  }

  /** After `voice:end` finalized the recording: the floor passes to the next in the queue. */
  afterEnd(userId: string, channelId: string): Promise<void> {
    return this.floor.recordingEnded(userId, channelId);
  }
}
