import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

/** Printable ASCII without spaces: push endpoints are URLs, and the unique index needs them short in bytes too. */
const URL_CHARACTERS = /^[\x21-\x7e]+$/;

export class PushSubscriptionKeysDto {
  @ApiProperty({
    description:
      "The user agent's ECDH P-256 public key: 65 bytes uncompressed, base64url (87 characters, `=` padding allowed)",
    example: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
  })
  @IsString()
  // 0x04 (uncompressed point) makes the first character `B`.
  @Matches(/^B[A-Za-z0-9_-]{86}=?$/, { message: 'p256dh must be a base64url uncompressed P-256 public key (65 bytes)' })
  p256dh: string;

  @ApiProperty({
    description: 'The 16-byte authentication secret, base64url (22 characters, `=` padding allowed)',
    example: 'tBHItJI5svbpez7KI4CCXg',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{22}(==)?$/, { message: 'auth must be a base64url 16-byte secret' })
  auth: string;
}

/** The browser's `PushSubscription.toJSON()`. */
export class CreatePushSubscriptionDto {
  @ApiProperty({
    description: 'Push service URL: https and a public address, unless ALLOW_PRIVATE_TARGETS',
    example: 'https://fcm.googleapis.com/fcm/send/abc123',
  })
  @IsString()
  @MaxLength(2048)
  @Matches(URL_CHARACTERS, { message: 'endpoint must be a URL without spaces or non-ASCII characters' })
  endpoint: string;

  @ApiProperty({ type: PushSubscriptionKeysDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PushSubscriptionKeysDto)
  keys: PushSubscriptionKeysDto;

  @ApiPropertyOptional({
    description: 'When the push service expires the subscription, ms since the epoch; null when it does not say',
    nullable: true,
    type: Number,
    example: null,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(8.64e15)
  expirationTime?: number | null;
}

export class DeletePushSubscriptionDto {
  @ApiProperty({ description: 'The endpoint of the subscription to remove', example: 'https://fcm.googleapis.com/fcm/send/abc123' })
  @IsString()
  @MaxLength(2048)
  endpoint: string;
}

export class PushSubscriptionDto {
  @ApiProperty({ description: 'Subscription id', format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Push service URL' }) endpoint: string;
  @ApiProperty({ description: 'Expiry in ms since the epoch, or null', nullable: true, type: Number })
  expirationTime: number | null;
  @ApiProperty({ description: 'First registration time, ISO-8601', format: 'date-time' }) createdAt: string;
}

export class VapidPublicKeyDto {
  @ApiProperty({
    description: "The server's VAPID public key, base64url: the `applicationServerKey` of `pushManager.subscribe`",
  })
  publicKey: string;
}
