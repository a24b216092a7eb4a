import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsString, MaxLength } from 'class-validator';
import { EVENT_TYPES } from '../../messages/channel-event.entity';

export class CreateWebhookDto {
  @ApiProperty({
    description: 'Target URL: https and a public address, unless ALLOW_PRIVATE_TARGETS',
    example: 'https://example.com/pigeon',
  })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({ description: '`event.type` values to receive', enum: EVENT_TYPES, isArray: true })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(EVENT_TYPES, { each: true })
  events: string[];
}

export class WebhookDto {
  @ApiProperty({ description: 'Webhook id' }) id: string;
  @ApiProperty({ description: 'HMAC-SHA256 key of Pigeon-Signature; shown only when created' }) secret: string;
  @ApiProperty({ description: 'Target URL' }) url: string;
  @ApiProperty({ description: 'Subscribed event types', isArray: true, enum: EVENT_TYPES }) events: string[];
  @ApiProperty({ description: 'Creation time, ISO-8601' }) createdAt: string;
}

export class DeliveryAttemptDto {
  @ApiProperty({ description: 'When the attempt started, ISO-8601' }) at: string;
  @ApiProperty({ description: 'HTTP status of the answer, null when none came', nullable: true, type: Number })
  statusCode: number | null;
  @ApiProperty({ description: 'Network error or timeout, null when an answer came', nullable: true, type: String })
  error: string | null;
  @ApiProperty({ description: 'Time to the answer or the error' }) durationMs: number;
}

export class WebhookDeliveryDto {
  @ApiProperty({ description: 'Delivery id, the Pigeon-Delivery header' }) id: string;
  @ApiProperty({ description: 'Event type, the Pigeon-Event header' }) eventType: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status: string;
  @ApiProperty({ type: [DeliveryAttemptDto] }) attempts: DeliveryAttemptDto[];
  @ApiProperty({ description: 'Creation time, ISO-8601' }) createdAt: string;
  @ApiProperty({ description: 'Last change, ISO-8601' }) updatedAt: string;
}
