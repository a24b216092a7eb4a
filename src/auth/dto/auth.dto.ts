import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, MaxLength, MinLength } from 'class-validator';

const trimLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class RegisterDto {
  @ApiProperty({ description: 'Email address, case-insensitive', format: 'email', maxLength: 320, example: 'ada@example.com' })
  @Transform(trimLower)
  @IsEmail()
  @MaxLength(320)
  email: string;

  @ApiProperty({ description: 'At least 10 characters', minLength: 10, maxLength: 256, example: 'correct-horse-battery' })
  @IsString()
  @MinLength(10)
  @MaxLength(256)
  password: string;

  @ApiProperty({ description: 'Name shown to others, 1..64 characters', minLength: 1, maxLength: 64, example: 'Ada' })
  @Transform(trim)
  @IsString()
  @Length(1, 64)
  displayName: string;
}

export class LoginDto {
  @ApiProperty({ description: 'Email address, case-insensitive', maxLength: 320, example: 'ada@example.com' })
  @Transform(trimLower)
  @IsString()
  @MaxLength(320)
  email: string;

  @ApiProperty({ description: 'The password', maxLength: 256, example: 'correct-horse-battery' })
  @IsString()
  @MaxLength(256)
  password: string;
}

export class RefreshDto {
  @ApiProperty({
    description: 'The refresh token from login, register or the last refresh',
    minLength: 1,
    maxLength: 512,
    example: 'rt_3q2+7w==',
  })
  @IsString()
  @Length(1, 512)
  refreshToken: string;
}

export class UserDto {
  @ApiProperty({ description: 'User id', format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Email, lower-cased', example: 'ada@example.com' }) email: string;
  @ApiProperty({ description: 'Display name', example: 'Ada' }) displayName: string;
}

export class AuthResponseDto {
  @ApiProperty({ type: UserDto, description: 'The signed-in user' }) user: UserDto;
  @ApiProperty({ description: 'JWT access token (HS256), valid ACCESS_TOKEN_TTL_SECONDS (15 min)', example: 'eyJhbGciOiJIUzI1NiJ9.e30.sig' }) accessToken: string;
  @ApiProperty({ description: 'Opaque refresh token; spent on use' }) refreshToken: string;
  @ApiProperty({ description: 'Access token expiry, ISO-8601', format: 'date-time' }) accessTokenExpiresAt: string;
}
