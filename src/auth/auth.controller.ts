import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthService } from './auth.service';
import { CurrentUserId } from './current-user.decorator';
import { AuthResponseDto, LoginDto, RefreshDto, RegisterDto, UserDto } from './dto/auth.dto';
import { Public } from './public.decorator';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('auth/register')
  @ApiOperation({ summary: 'Create an account' })
  @ApiResponse({ status: 201, type: AuthResponseDto })
  @ApiResponse({ status: 409, description: 'Email taken (CONFLICT)' })
  @ApiResponse({ status: 429, description: 'Too many registrations from this address (RATE_LIMITED, retryAfterMs)' })
  register(@Body() dto: RegisterDto, @Ip() address: string) {
    return this.auth.register(dto.email, dto.password, dto.displayName, address);
  }

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with email and password' })
  @ApiResponse({ status: 200, type: AuthResponseDto })
  @ApiResponse({ status: 401, description: 'Bad credentials (same answer for an unknown email)' })
  @ApiResponse({ status: 429, description: '5 failed logins for this email from this address in 15 min (RATE_LIMITED, retryAfterMs)' })
  login(@Body() dto: LoginDto, @Ip() address: string) {
    return this.auth.login(dto.email, dto.password, address);
  }

  @Public()
  @Post('auth/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Trade a refresh token for a new pair; reuse of a spent one revokes the family' })
  @ApiResponse({ status: 200, type: AuthResponseDto })
  @ApiResponse({ status: 429, description: 'Too many refreshes from this address (RATE_LIMITED, retryAfterMs)' })
  refresh(@Body() dto: RefreshDto, @Ip() address: string) {
    return this.auth.refresh(dto.refreshToken, address);
  }

  @Public()
  @Post('auth/logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke the refresh token family' })
  @ApiResponse({ status: 204 })
  logout(@Body() dto: RefreshDto) {
    return this.auth.logout(dto.refreshToken);
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiResponse({ status: 200, type: UserDto })
  me(@CurrentUserId() userId: string) {
    return this.auth.me(userId);
  }
}
