import type { Recording } from './recording-store';

/**
 * A policy hook before live voice is accepted: push-to-talk floor control plugs in here. Each method
 * throws an AppException (e.g. FLOOR_NOT_HELD) to refuse; the socket stays usable.
 */
export interface LiveVoiceGuard {
  /** After the membership check, before the recording's message exists. */
  beforeStart(input: { userId: string; workspaceId: string; channelId: string }): Promise<void>;
  /** After the speaker check, before the chunk is stored or relayed. */
  beforeChunk(input: { userId: string; recording: Recording }): Promise<void>;
}

export const LIVE_VOICE_GUARD = Symbol('LIVE_VOICE_GUARD');

/** The default: anyone who may post in the channel may speak in it. */
export const OPEN_FLOOR: LiveVoiceGuard = {
  beforeStart: async () => undefined,
  beforeChunk: async () => undefined,
};
