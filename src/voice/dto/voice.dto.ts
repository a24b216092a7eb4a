import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { CLIENT_MSG_ID } from '../../common/validators';

/** The text fields of the multipart upload; the audio is the `file` part. */
export class UploadVoiceDto {
  @ApiProperty({
    description: 'Client-chosen idempotency key, 1..64 of [A-Za-z0-9_.:-]; a retry returns the first message',
  })
  @IsString()
  @Matches(CLIENT_MSG_ID, { message: 'clientMsgId must be 1..64 of [A-Za-z0-9_.:-]' })
  clientMsgId: string;

  @ApiPropertyOptional({ description: 'Topic of this channel to post in' })
  @IsOptional()
  @IsUUID()
  topicId?: string;
}

export class VoiceAudioQueryDto {
  @ApiPropertyOptional({
    enum: ['opus', 'aac'],
    description: 'Rendition; the original bytes are served until it is ready',
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
}

export class VoiceDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['recording', 'processing', 'ready', 'failed'] }) status: string;
  @ApiProperty({ nullable: true, type: String, description: 'Type of the original, sniffed from its bytes' }) mimeType:
    string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Measured by the server once processed' }) durationMs:
    number | null;
  @ApiProperty({ nullable: true, type: [Number], description: '64 peaks, 0..100' }) waveform: number[] | null;
  @ApiProperty({ nullable: true, type: String, description: 'Speech to text (TRANSCRIBE_CMD), or null' }) transcript: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Signed audio URL, valid 1 h, usable without a header' })
  url: string | null;
  @ApiProperty() messageId: string;
  @ApiProperty() channelId: string;
  @ApiProperty({ nullable: true, type: String }) failureReason: string | null;
}
