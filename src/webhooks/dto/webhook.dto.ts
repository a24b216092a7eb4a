import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsString, MaxLength } from 'class-validator';
import { WEBHOOK_EVENT_TYPES as EVENT_TYPES } from '../webhook-dispatcher.service';

export class CreateWebhookDto {
  @ApiProperty({
    description: 'Target URL: https and a public address, unless ALLOW_PRIVATE_TARGETS',
    example: 'https://example.com/pigeon',
  })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({
    description: '`event.type` values to receive, and `voice.listened`',
    enum: EVENT_TYPES,
    isArray: true,
    example: ['message.created'],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(EVENT_TYPES, { each: true })
  events: string[];
}

export class WebhookDto {
  @ApiProperty({ description: 'Webhook id', format: 'uuid' }) id: string;
  @ApiProperty({ description: 'HMAC-SHA256 key of Pigeon-Signature; shown only when created', example: 'whsec_9f8e7d' })
  secret: string;
  @ApiProperty({ description: 'Target URL', example: 'https://example.com/pigeon' }) url: string;
  @ApiProperty({ description: 'Subscribed event types', isArray: true, enum: EVENT_TYPES }) events: string[];
  @ApiProperty({ description: 'Creation time, ISO-8601', format: 'date-time' }) createdAt: string;
}

export class DeliveryAttemptDto {
  @ApiProperty({ description: 'When the attempt started, ISO-8601', format: 'date-time' }) at: string;
  @ApiProperty({ description: 'HTTP status of the answer, null when none came', nullable: true, type: 'integer', example: 200 })
  statusCode: number | null;
  @ApiProperty({ description: 'Network error or timeout, null when an answer came', nullable: true, type: String })
  error: string | null;
  @ApiProperty({ description: 'Time to the answer or the error', type: 'integer', example: 85 }) durationMs: number;
}

export class WebhookDeliveryDto {
  @ApiProperty({ description: 'Delivery id, the Pigeon-Delivery header', format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Event type, the Pigeon-Event header', example: 'message.created' }) eventType: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status: string;
  @ApiProperty({ type: [DeliveryAttemptDto] }) attempts: DeliveryAttemptDto[];
  @ApiProperty({ description: 'Creation time, ISO-8601', format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'Last change, ISO-8601', format: 'date-time' }) updatedAt: string;
}
