import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, MaxLength, MinLength } from 'class-validator';

const trimLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class RegisterDto {
  @ApiProperty({ description: 'Email address, case-insensitive', example: 'ada@example.com' })
  @Transform(trimLower)
  @IsEmail()
  @MaxLength(320)
  email: string;

  @ApiProperty({ description: 'At least 10 characters', minLength: 10, maxLength: 256 })
  @IsString()
  @MinLength(10)
  @MaxLength(256)
  password: string;

  @ApiProperty({ description: 'Name shown to others, 1..64 characters', example: 'Ada' })
  @Transform(trim)
  @IsString()
  @Length(1, 64)
  displayName: string;
}

export class LoginDto {
  @ApiProperty({ description: 'Email address, case-insensitive' })
  @Transform(trimLower)
  @IsString()
  @MaxLength(320)
  email: string;

  @ApiProperty({ description: 'The password' })
  @IsString()
  @MaxLength(256)
  password: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from login, register or the last refresh' })
  @IsString()
  @Length(1, 512)
  refreshToken: string;
}

export class UserDto {
  @ApiProperty({ description: 'User id (UUID)' }) id: string;
  @ApiProperty({ description: 'Email, lower-cased' }) email: string;
  @ApiProperty({ description: 'Display name' }) displayName: string;
}

export class AuthResponseDto {
  @ApiProperty({ type: UserDto, description: 'The signed-in user' }) user: UserDto;
  @ApiProperty({ description: 'JWT access token, valid 15 minutes' }) accessToken: string;
  @ApiProperty({ description: 'Opaque refresh token; spent on use' }) refreshToken: string;
  @ApiProperty({ description: 'Access token expiry, ISO-8601' }) accessTokenExpiresAt: string;
}
