import { Injectable } from '@nestjs/common';
import type { MessageView } from '../messages/message.view';
import { MessagesService } from '../messages/messages.service';
import { VoiceClipChange, VoiceClipGuard, VoiceClipRepository, VoiceClipRow } from './voice-clip.repository';
import { recordVoiceTranscode } from '../outbox/outbox.repository';
import { OutboxService } from '../outbox/outbox.service';
import { voiceFileKeys } from './voice-files';

export interface NewVoiceMessage {
  voiceId: string;
  userId: string;
  workspaceId: string;
  channelId: string;
  clientMsgId: string;
  topicId?: string | null;
  /** `processing`: an upload whose original is stored; `recording`: a live recording that starts. */
  status: 'processing' | 'recording';
  mimeType: string | null;
  sizeBytes: number | null;
  /** Runs when no message was created (the send failed, or a retry found the first one): e.g. removes a stored original. */
  discard?: () => Promise<void>;
}

export type ClipChangeOutcome = 'changed' | 'unchanged' | 'deleted';

/**
 * Voice messages as the channel log sees them: the one path that creates a voice message with its clip
 * (upload and live), and the one that changes a clip with its `message.updated` (finalize, transcode,
 * transcription). A clip that becomes `processing` gets its transcode job here, and only here: as an
 * outbox row in the same transaction, which the relay turns into the BullMQ job after commit.
 */
@Injectable()
export class VoiceClips {
  constructor(
    private readonly repository: VoiceClipRepository,
    private readonly messages: MessagesService,
    private readonly outbox: OutboxService,
  ) {}

  /** The message and its clip in one transaction; a retry with the same clientMsgId answers the first message. */
  async create(input: NewVoiceMessage): Promise<{ message: MessageView; created: boolean }> {
    const result = await this.messages.send(
      input.userId,
      {
        channelId: input.channelId,
        clientMsgId: input.clientMsgId,
        body: '',
        kind: 'voice',
        topicId: input.topicId ?? null,
        onCreated: async (manager, row) => {
          await this.repository.insert(manager, {
            id: input.voiceId,
            message_id: row.id,
            workspace_id: input.workspaceId,
            channel_id: input.channelId,
            status: input.status,
            mime_type: input.mimeType,
            original_key: voiceFileKeys(input.workspaceId, input.voiceId).original,
            size_bytes: input.sizeBytes,
          });
          if (input.status === 'processing') await recordVoiceTranscode(manager, { workspaceId: input.workspaceId, voiceId: input.voiceId });
        },
      },
      input.workspaceId,
    ).catch(async (error: unknown) => {
      await input.discard?.();
      throw error;
    });
    if (!result.created) {
      await input.discard?.();
      // A retry of an upload whose job was lost (Redis flushed) must not leave it processing forever.
      const voice = result.message.voice;
      if (voice?.status === 'processing') await this.outbox.requeueVoice({ workspaceId: input.workspaceId, voiceId: voice.id });
    }
    return result;
  }

  /**
   * Applies `change` where `guard` holds and appends `message.updated` in the same transaction (through
   * the channel log, so seqs stay gap-free and a crash cannot keep the change without its event). With
   * `skipDeleted`, a deleted message is left alone ('deleted').
   */
  async change(
    clip: Pick<VoiceClipRow, 'id' | 'message_id'>,
    change: VoiceClipChange,
    guard: VoiceClipGuard,
    options: { skipDeleted?: boolean } = {},
  ): Promise<ClipChangeOutcome> {
    let outcome = 'unchanged' as ClipChangeOutcome;
    await this.messages.changeMessage(null, clip.message_id, undefined, async (manager, message) => {
      if (options.skipDeleted && message.deleted_at) {
        outcome = 'deleted';
        return null;
      }
      // A second run (stalled job, retried finalize) finds the guard false: no second event.
      if (!(await this.repository.update(manager, clip.id, change, guard))) return null;
      if (change.status === 'processing') await recordVoiceTranscode(manager, { workspaceId: message.workspace_id, voiceId: clip.id });
      outcome = 'changed';
      return 'message.updated';
    });
    return outcome;
  }
}
