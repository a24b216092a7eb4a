import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { format as formatMediaType, parse as parseMediaType } from 'content-type';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, Min, ValidateBy } from 'class-validator';
import { CLIENT_MSG_ID } from '../../common/validators';

/** What a browser's MediaRecorder produces and ffmpeg can decode from a concatenation of its chunks. */
export const LIVE_VOICE_MIME_TYPES = ['audio/webm', 'audio/ogg', 'audio/mp4'] as const;
export type LiveVoiceMimeType = string;

/**
 * A declared media type in its canonical form (`audio/webm; codecs=opus`), or null when it does not
 * parse or names another container. Browsers differ in spacing, quoting and case
 * (`audio/webm;codecs=opus` in Chromium, `audio/ogg; codecs=opus` in Firefox, `audio/mp4` in Safari).
 */
export function canonicalLiveMimeType(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) return null;
  try {
    const parsed = parseMediaType(value.trim());
    if (!(LIVE_VOICE_MIME_TYPES as readonly string[]).includes(parsed.type)) return null;
    return formatMediaType(parsed);
  } catch {
    return null;
  }
}

/** Far more chunks than any recording within VOICE_MAX_BYTES needs; keeps indexes exact in Redis' Lua numbers. */
export const MAX_CHUNK_INDEX = 1_000_000;

/**
 * Socket.IO hands binary attachments to the server as a Buffer, whatever the client sent (ArrayBuffer,
 * typed array, Blob). An array of numbers or a string is not binary. The size limit is checked by the
 * service (PAYLOAD_TOO_LARGE, not VALIDATION).
 */
const IsBinary = () =>
  ValidateBy({
    name: 'isBinary',
    validator: {
      validate: (value: unknown) => Buffer.isBuffer(value) && value.length > 0,
      defaultMessage: () => '$property must be binary data of at least 1 byte',
    },
  });

export class VoiceStartDto {
  @ApiProperty({ description: 'Channel to speak in', format: 'uuid' })
  @IsUUID()
  channelId: string;

  @ApiProperty({
    description: 'Client-chosen idempotency key; a retry returns the first message',
    pattern: CLIENT_MSG_ID.source,
    example: 'v-1733145600000-1',
  })
  @IsString()
  @Matches(CLIENT_MSG_ID, { message: 'clientMsgId must be 1..64 of [A-Za-z0-9_.:-]' })
  clientMsgId: string;

  @ApiProperty({
    description: 'Container (and codec) of the chunks, as MediaRecorder reports it: a media type of audio/webm, audio/ogg or audio/mp4, parameters in any spacing or quoting',
    example: 'audio/webm;codecs=opus',
  })
  // Kept as declared (it is the Content-Type of the live stream); parsing it proves it is a safe token list.
  @ValidateBy({
    name: 'isLiveVoiceMimeType',
    validator: {
      validate: (value: unknown) => canonicalLiveMimeType(value) !== null,
      defaultMessage: () => 'mimeType must be a media type of audio/webm, audio/ogg or audio/mp4',
    },
  })
  mimeType: LiveVoiceMimeType;

  @ApiPropertyOptional({ description: 'Topic of this channel to post in', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  topicId?: string;
}

export class VoiceChunkDto {
  @ApiProperty({ description: 'voice.id of the recording', format: 'uuid' })
  @IsUUID()
  voiceId: string;

  @ApiProperty({ description: 'Position of the chunk, from 0', type: 'integer', minimum: 0, maximum: MAX_CHUNK_INDEX })
  @IsInt()
  @Min(0)
  @Max(MAX_CHUNK_INDEX)
  index: number;

  @ApiProperty({ type: 'string', format: 'binary', description: 'The bytes, at most VOICE_CHUNK_MAX_BYTES' })
  @IsBinary()
  data: Buffer;
}

export class VoiceEndDto {
  @ApiProperty({ description: 'voice.id of the recording', format: 'uuid' })
  @IsUUID()
  voiceId: string;

  @ApiProperty({
    description: 'How many chunks were sent (indexes 0..chunks-1)',
    type: 'integer',
    minimum: 0,
    maximum: MAX_CHUNK_INDEX + 1,
  })
  @IsInt()
  @Min(0)
  @Max(MAX_CHUNK_INDEX + 1)
  chunks: number;

  @ApiProperty({ description: "The client's measure of the length; a hint, the server measures", type: 'integer', minimum: 0 })
  @IsInt()
  @Min(0)
  durationMs: number;
}

export class VoiceListenedDto {
  @ApiProperty({ description: 'The voice message that was played', format: 'uuid' })
  @IsUUID()
  messageId: string;
}
