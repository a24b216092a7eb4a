import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsUUID, Max, Min } from 'class-validator';

/** Far beyond any voice message (VOICE_MAX_SECONDS caps them); keeps the column an int. */
export const MAX_POSITION_MS = 24 * 3600_000;

export class VoiceProgressDto {
  @ApiProperty({ description: 'The voice message being played', format: 'uuid' })
  @IsUUID()
  messageId: string;

  @ApiProperty({ description: 'How far the listener has played, in ms', type: 'integer', minimum: 0, maximum: MAX_POSITION_MS })
  @IsInt()
  @Min(0)
  @Max(MAX_POSITION_MS)
  positionMs: number;
}

export class VoiceListenerDto {
  @ApiProperty({ description: 'The listener', format: 'uuid' }) userId: string;
  @ApiProperty({ description: 'Furthest position played, ms (the duration once finished without progress)', type: 'integer' })
  positionMs: number;
  @ApiProperty({ description: 'When they finished (voice:listened), ISO-8601; null if not yet', nullable: true, type: String, format: 'date-time' })
  listenedAt: string | null;
}

export class VoiceProgressResultDto {
  @ApiProperty({ description: 'The furthest position stored for the caller (never less than before)', type: 'integer' })
  positionMs: number;
}
