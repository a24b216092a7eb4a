import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { AppException } from '../common/app.exception';
import { BlobNotFoundError, BlobStorage, ByteRange } from '../storage/blob-storage';
import { AacRenditions } from './aac-renditions';
import { VoiceClipRepository, VoiceClipRow } from './voice-clip.repository';
import { RENDITION_TYPES } from './voice-files';

/** Stored audio to serve: its type and size, its bytes (ranges too), and a direct URL when the driver has one. */
export interface StoredAudio {
  contentType: string;
  size: number;
  read(range?: ByteRange): Promise<Readable>;
  presignedUrl(expiresInSeconds: number): Promise<string | null>;
}

/** The files of voice clips in BlobStorage: what playback reads, and their removal with the message. */
@Injectable()
export class VoiceFiles {
  constructor(
    private readonly repository: VoiceClipRepository,
    private readonly storage: BlobStorage,
    private readonly aac: AacRenditions,
  ) {}

  /**
   * The rendition when ready (`opus` by default; `aac` is made on its first request), else the
   * original bytes; NOT_FOUND when there is no file.
   */
  async audio(row: VoiceClipRow, format: 'opus' | 'aac' | undefined): Promise<StoredAudio> {
    const wanted = format ?? 'opus';
    let renditionKey: string | null = null;
    if (row.status === 'ready' && row.opus_key) renditionKey = wanted === 'opus' ? row.opus_key : await this.aac.ensure(row);
    const key = renditionKey ?? row.original_key;
    if (!key) throw AppException.notFound('Audio');
    const contentType = renditionKey ? RENDITION_TYPES[wanted] : (row.mime_type ?? 'application/octet-stream');
    // Removed meanwhile (the message was deleted): gone, like the message.
    const gone = (error: unknown) => {
      throw error instanceof BlobNotFoundError ? AppException.notFound('Audio') : error;
    };
    const size = await this.storage.size(key).catch(gone);
    return {
      contentType,
      size,
      read: (range) => this.storage.read(key, range).catch(gone),
      presignedUrl: (expiresInSeconds) => this.storage.presignedGetUrl(key, { expiresInSeconds, contentType }),
    };
  }

  /** A deleted voice message's audio files go too (the endpoint already answers 404 for it). */
  async purge(messageIds: string[]): Promise<void> {
    for (const key of await this.repository.detachFiles(messageIds)) await this.storage.remove(key);
  }
}
