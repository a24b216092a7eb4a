import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { CLIENT_MSG_ID } from '../../common/validators';

/** The text fields of the multipart upload; the audio is the `file` part. */
export class UploadVoiceDto {
  @ApiProperty({
    description: 'Client-chosen idempotency key, 1..64 of [A-Za-z0-9_.:-]; a retry returns the first message',
    pattern: CLIENT_MSG_ID.source,
    example: 'v-1733145600000-1',
  })
  @IsString()
  @Matches(CLIENT_MSG_ID, { message: 'clientMsgId must be 1..64 of [A-Za-z0-9_.:-]' })
  clientMsgId: string;

  @ApiPropertyOptional({ description: 'Topic of this channel to post in', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  topicId?: string;
}

export class VoiceAudioQueryDto {
  @ApiPropertyOptional({
    enum: ['opus', 'aac'],
    description: 'Rendition; the original bytes are served until it is ready',
    example: 'opus',
  })
  @IsOptional()
  @IsIn(['opus', 'aac'])
  format?: 'opus' | 'aac';

  @ApiPropertyOptional({ description: 'Expiry of a signed URL (unix seconds), from voice.url' })
  @IsOptional()
  @IsString()
  expires?: string;

  @ApiPropertyOptional({ description: 'Signature of a signed URL, from voice.url' })
  @IsOptional()
  @IsString()
  sig?: string;

  @ApiPropertyOptional({ description: 'The member a signed URL was made for, from voice.url', format: 'uuid' })
  @IsOptional()
  @IsString()
  u?: string;
}

/** `message.voice` plus where the message lives and why it failed. */
export class VoiceDto {
  @ApiProperty({ description: 'Voice id', format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['recording', 'processing', 'ready', 'failed'], example: 'ready' }) status: string;
  @ApiProperty({ nullable: true, type: String, description: 'Type of the original, sniffed from its bytes' }) mimeType:
    string | null;
  @ApiProperty({ nullable: true, type: 'integer', description: 'Measured by the server once processed', example: 4200 }) durationMs:
    number | null;
  @ApiProperty({ nullable: true, type: 'integer', isArray: true, description: '64 peaks, 0..100' }) waveform: number[] | null;
  @ApiProperty({ nullable: true, type: String, description: 'Speech to text (TRANSCRIBE_CMD), or null' }) transcript: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Audio URL signed for the caller (valid AUDIO_URL_TTL_SECONDS, 10 min by default), usable without a header while the caller may read the channel',
  })
  url: string | null;
  @ApiProperty({ description: 'The voice message', format: 'uuid' }) messageId: string;
  @ApiProperty({ description: 'Its channel', format: 'uuid' }) channelId: string;
  @ApiProperty({ nullable: true, type: String, description: 'Why processing failed', example: 'no audio received' })
  failureReason: string | null;
}
