import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import { channelRoom, FanoutService, userRoom } from '../fanout/fanout.service';
import { VoiceFloorPolicy } from '../floor/voice-floor.policy';
import { ListeningService } from '../listening/listening.service';
import type { MessageView } from '../messages/message.view';
import { MessagesService } from '../messages/messages.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import type { VoiceChunkDto, VoiceEndDto, VoiceStartDto } from './dto/live-voice.dto';
import { LIVE_VOICE_GUARD, type LiveVoiceGuard } from './live-voice.guard';
import { LiveRecordings } from './live-recordings';
import { RecordingFinalizer } from './recording-finalizer';
import { Recording, RecordingStore } from './recording-store';
import { VoiceClipRepository } from './voice-clip.repository';
import { VoiceClips } from './voice-clips.service';

/** How long voice:end waits for chunks still in flight before naming the missing ones. */
const END_WAIT_MS = 2000;

/**
 * Live voice, one method per socket event: a recording is a voice message in status `recording` whose
 * chunks stream over the socket. Chunks live in Redis (RecordingStore), so any node can relay them, serve
 * them over HTTP (LiveFollowStream) or finalize the recording (RecordingFinalizer).
 */
@Injectable()
export class LiveVoiceHandlers {
  private readonly logger = new Logger(LiveVoiceHandlers.name);

  constructor(
    private readonly store: RecordingStore,
    private readonly finalizer: RecordingFinalizer,
    private readonly recordings: LiveRecordings,
    private readonly repository: VoiceClipRepository,
    private readonly clips: VoiceClips,
    private readonly access: AccessService,
    private readonly messages: MessagesService,
    private readonly rateLimit: RateLimitService,
    private readonly fanout: FanoutService,
    private readonly config: AppConfigService,
    @Inject(LIVE_VOICE_GUARD) private readonly guard: LiveVoiceGuard,
    private readonly floor: VoiceFloorPolicy,
    private readonly listening: ListeningService,
  ) {}

  async start(userId: string, socketId: string, dto: VoiceStartDto): Promise<MessageView> {
    const access = await this.access.requireChannelMember(dto.channelId, userId);
    await this.guard.beforeStart({ userId, workspaceId: access.workspaceId, channelId: dto.channelId });
    await this.rateLimit.consumeWrite(userId);
    // Each open recording may hold up to VOICE_MAX_BYTES in Redis: a user keeps only a few open.
    const maxOpen = this.config.get('OPEN_RECORDINGS_PER_USER_MAX');
    if ((await this.repository.countOpenRecordings(userId, dto.clientMsgId)) >= maxOpen) {
      throw new AppException(ErrorCode.LIMIT_REACHED, `At most ${maxOpen} recordings may be open at once; end one first`);
    }
    const { message } = await this.clips.create({
      voiceId: randomUUID(),
      userId,
      workspaceId: access.workspaceId,
      channelId: dto.channelId,
      clientMsgId: dto.clientMsgId,
      topicId: dto.topicId,
      status: 'recording',
      mimeType: dto.mimeType,
      sizeBytes: null,
    });
    if (message.kind !== 'voice' || !message.voice)
      throw AppException.conflict('clientMsgId was already used for another message');
    if (message.voice.status === 'recording') {
      const recording: Recording = {
        voiceId: message.voice.id,
        messageId: message.id,
        channelId: message.channelId,
        workspaceId: message.workspaceId,
        speakerId: userId,
      };
      await this.store.open(recording);
      this.recordings.remember(recording);
      this.recordings.trackSpeaker(socketId, recording.voiceId);
    }
    return message;
  }

  async chunk(userId: string, socketId: string, dto: VoiceChunkDto): Promise<{ index: number; duplicate: boolean }> {
    const maxChunk = this.config.get('VOICE_CHUNK_MAX_BYTES');
    if (dto.data.length > maxChunk) {
      throw new AppException(ErrorCode.PAYLOAD_TOO_LARGE, `A chunk may hold at most ${maxChunk} bytes`);
    }
    const recording = await this.speakerRecording(userId, dto.voiceId);
    await this.guard.beforeChunk({ userId, recording });
    // Chunks are limited by bytes per user (all nodes), so live voice cannot flood the shared Redis.
    await this.rateLimit.consumeChunkBytes(userId, dto.data.length);
    const result = await this.store.append(dto.voiceId, userId, dto.index, dto.data);
    switch (result.status) {
      case 'duplicate':
        return { index: dto.index, duplicate: true };
      case 'missing':
      case 'ended':
        throw AppException.conflict('The recording has ended');
      case 'not_speaker':
        throw AppException.forbidden('Only the speaker may send chunks');
      case 'too_large':
        throw new AppException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          `A voice message may hold at most ${this.config.get('VOICE_MAX_BYTES')} bytes`,
        );
      case 'too_long':
        throw new AppException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          `A voice message may last at most ${this.config.get('VOICE_MAX_SECONDS')} s`,
        );
    }
    this.recordings.trackSpeaker(socketId, dto.voiceId);
    // Emitted right after the script's reply, before any other await: this node relays in index order.
    for (const { index, data } of result.relay) {
      this.fanout.emit(
        channelRoom(recording.channelId),
        'voice:chunk',
        { voiceId: dto.voiceId, messageId: recording.messageId, channelId: recording.channelId, index, data },
        { except: userRoom(userId) },
      );
    }
    return { index: dto.index, duplicate: false };
  }

  async end(userId: string, dto: VoiceEndDto): Promise<MessageView> {
    const recording = await this.speakerRecording(userId, dto.voiceId);
    if ((await this.repository.status(dto.voiceId)) === 'recording') {
      // Chunks sent just before voice:end may still be on their way (or waiting for a gap to fill).
      const deadline = Date.now() + END_WAIT_MS;
      let progress = await this.store.progress(dto.voiceId);
      while (progress.received < dto.chunks && progress.state === 'recording' && Date.now() < deadline) {
        // A speaker waiting here is not gone: without this, the sweeper could end the recording mid-wait.
        await this.store.keepAlive(dto.voiceId);
        await sleep(50);
        progress = await this.store.progress(dto.voiceId);
      }
      const { received, state } = progress;
      if (state === 'recording' && received !== dto.chunks) {
        const message =
          received < dto.chunks
            ? `chunk ${received} is missing (chunks 0..${received - 1} arrived in order)`
            : `${received} chunks were received, more than chunks = ${dto.chunks}`;
        throw AppException.validation(message, [{ field: 'chunks', message }]);
      }
      await this.finalizer.finalizeOrWait(dto.voiceId, dto.chunks);
    }
    await this.floor.afterEnd({ userId, channelId: recording.channelId });
    return this.messages.get(userId, recording.messageId);
  }

  async listened(userId: string, messageId: string): Promise<void> {
    const message = await this.repository.message(messageId);
    if (!message || message.kind !== 'voice' || message.deleted_at) throw AppException.notFound('Voice message');
    const access = await this.access.requireChannelMember(message.channel_id, userId).catch(() => {
      throw AppException.notFound('Voice message');
    });
    // Only the first listen is news.
    if (await this.repository.addListen(messageId, userId)) {
      this.fanout.emit(channelRoom(message.channel_id), 'voice:listened', { messageId, userId });
      this.listening.finished({ workspaceId: access.workspaceId, channelId: message.channel_id, messageId, userId });
    }
  }

  /** The speaker's socket is gone: its recordings end with what arrived. */
  async speakerDisconnected(socketId: string): Promise<void> {
    for (const voiceId of this.recordings.releaseSocket(socketId)) {
      await this.finalizer.finalize(voiceId).catch((error: unknown) => {
        // The sweeper retries once the recording has been silent for VOICE_ABANDON_MS.
        this.logger.warn(`Finalizing ${voiceId} after disconnect failed: ${String(error)}`);
      });
    }
  }

  /** The recording, if the caller is its speaker; NOT_FOUND for non-members, FORBIDDEN for other members. */
  private async speakerRecording(userId: string, voiceId: string): Promise<Recording> {
    let recording = this.recordings.get(voiceId);
    if (!recording) {
      const clip = await this.repository.findWithSpeaker(voiceId);
      if (!clip) throw AppException.notFound('Voice message');
      recording = {
        voiceId,
        messageId: clip.message_id,
        channelId: clip.channel_id,
        workspaceId: clip.workspace_id,
        speakerId: clip.author_id,
      };
      // A recording whose meta never reached Redis (its node died right after the commit) gets it now.
      if (clip.status === 'recording') await this.store.open(recording);
      this.recordings.remember(recording);
    }
    await this.access.requireChannelMember(recording.channelId, userId).catch(() => {
      throw AppException.notFound('Voice message');
    });
    if (recording.speakerId !== userId) throw AppException.forbidden('Only the speaker may do this');
    return recording;
  }
}
