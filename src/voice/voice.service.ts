import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import type { MessageView, VoiceView } from '../messages/message.view';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { BlobStorage } from '../storage/blob-storage';
import { sniffAudio } from './audio-sniff';
import { AudioUrlSigner } from './audio-url.signer';
import { VoiceClipRepository, VoiceClipRow } from './voice-clip.repository';
import { VoiceClips } from './voice-clips.service';
import { StoredAudio, VoiceFiles } from './voice-file.service';
import { voiceFileKeys } from './voice-files';
import { VoiceViews } from './voice-views';

/** A recording still in progress: its bytes are followed live (LiveFollowStream) until it ends. */
export interface LiveAudioSource {
  live: true;
  voiceId: string;
  contentType: string;
}

/** A signed-URL request answered by the bucket itself (STORAGE_DRIVER=s3 with S3_AUDIO_REDIRECT). */
export interface RedirectAudioSource {
  redirect: string;
}

/** Presigned bucket URLs live at most this long (and never past the signed URL they stand for). */
const PRESIGNED_MAX_SECONDS = 300;

type AudioCaller = { userId: string } | { u?: string; expires?: string; sig?: string };

/** Recorded voice messages: upload, GET /api/voice/:id, and the audio endpoint's access check. */
@Injectable()
export class VoiceService {
  constructor(
    private readonly repository: VoiceClipRepository,
    private readonly clips: VoiceClips,
    private readonly files: VoiceFiles,
    private readonly views: VoiceViews,
    private readonly signer: AudioUrlSigner,
    private readonly access: AccessService,
    private readonly storage: BlobStorage,
    private readonly config: AppConfigService,
    private readonly rateLimit: RateLimitService,
  ) {}

  async upload(
    userId: string,
    workspaceId: string,
    channelId: string,
    input: { clientMsgId: string; topicId?: string },
    file: { buffer: Buffer; size: number } | undefined,
  ): Promise<MessageView> {
    await this.access.requireChannelMember(channelId, userId, workspaceId);
    await this.rateLimit.consumeWrite(userId);
    if (!file || file.size === 0)
      throw AppException.validation('file is required', [{ field: 'file', message: 'file is required' }]);
    const mimeType = sniffAudio(file.buffer)?.mimeType;
    if (!mimeType) {
      const message = 'file must be WebM, Ogg, MP4/M4A, WAV or MP3 audio';
      throw new AppException(ErrorCode.VALIDATION, message, [{ field: 'file', message }], undefined, 415);
    }
    const voiceId = randomUUID();
    const originalKey = voiceFileKeys(workspaceId, voiceId).original;
    // Stored before the message exists, so the transcode job never finds a clip without its file.
    await this.storage.put(originalKey, file.buffer, mimeType);
    const { message } = await this.clips.create({
      voiceId,
      userId,
      workspaceId,
      channelId,
      clientMsgId: input.clientMsgId,
      topicId: input.topicId,
      status: 'processing',
      mimeType,
      sizeBytes: file.size,
      // A failed send, or a retried upload (the first one's copy is the one that counts).
      discard: () => this.storage.remove(originalKey),
    });
    if (message.kind !== 'voice') throw AppException.conflict('clientMsgId was already used for another message');
    return message;
  }

  async get(
    userId: string,
    voiceId: string,
  ): Promise<VoiceView & { messageId: string; channelId: string; failureReason: string | null }> {
    const row = await this.visibleRow(userId, voiceId);
    return {
      ...this.views.toView(row, userId),
      messageId: row.message_id,
      channelId: row.channel_id,
      failureReason: row.failure_reason,
    };
  }

  /**
   * The audio to serve: the rendition when ready, else the original bytes, or the live recording while it
   * is still `recording`. Auth: a user id, or a valid signed URL; a signed URL may be answered by a
   * redirect to the bucket, after the same member check.
   */
  async audio(
    voiceId: string,
    format: 'opus' | 'aac' | undefined,
    caller: AudioCaller,
  ): Promise<StoredAudio | LiveAudioSource | RedirectAudioSource> {
    let userId: string;
    if ('userId' in caller) {
      userId = caller.userId;
    } else {
      if (!caller.u || !this.signer.valid(voiceId, caller.u, caller.expires, caller.sig))
        throw AppException.unauthorized('Invalid or expired audio URL');
      userId = caller.u;
    }
    // A signed URL is only as good as its member's access now: removed members and deleted messages get 404.
    const row = await this.visibleRow(userId, voiceId);
    if (row.status === 'recording') return { live: true, voiceId, contentType: row.mime_type ?? 'application/octet-stream' };
    const audio = await this.files.audio(row, format);
    if (!('userId' in caller) && this.config.get('S3_AUDIO_REDIRECT')) {
      const seconds = Math.min(PRESIGNED_MAX_SECONDS, Math.floor(Number(caller.expires) - Date.now() / 1000));
      const url = seconds > 0 ? await audio.presignedUrl(seconds) : null;
      if (url) return { redirect: url };
    }
    return audio;
  }

  /** Channel members only, message not deleted; anyone else gets NOT_FOUND, as if it did not exist. */
  private async visibleRow(userId: string, voiceId: string): Promise<VoiceClipRow> {
    const row = await this.repository.findLive(voiceId);
    if (!row) throw AppException.notFound('Voice message');
    await this.access.requireChannelMember(row.channel_id, userId).catch(() => {
      throw AppException.notFound('Voice message');
    });
    return row;
  }
}
