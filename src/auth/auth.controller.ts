import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../common/api-docs';
import { AuthService } from './auth.service';
import { CurrentUserId } from './current-user.decorator';
import { AuthResponseDto, LoginDto, RefreshDto, RegisterDto, UserDto } from './dto/auth.dto';
import { Public } from './public.decorator';
import { SystemScope } from '../tenancy/system-scope.decorator';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @SystemScope('auth.register')
  @Post('auth/register')
  @ApiOperation({
    summary: 'Create an account',
    description: 'Creates the user and signs them in: answers the user with an access token and a refresh token.',
  })
  @ApiResponse({ status: 201, type: AuthResponseDto, description: 'The new user, signed in' })
  @ApiErrorResponses(400, { 409: 'Email already registered (CONFLICT)', 429: 'Too many sign-ups from this address (RATE_LIMITED, retryAfterMs)' })
  register(@Body() dto: RegisterDto, @Ip() address: string) {
    return this.auth.register(dto.email, dto.password, dto.displayName, address);
  }

  @Public()
  @SystemScope('auth.login')
  @Post('auth/login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in with email and password',
    description: 'Answers a new token pair. A wrong password and an unknown email get the same 401.',
  })
  @ApiResponse({ status: 200, type: AuthResponseDto, description: 'Signed in' })
  @ApiErrorResponses(400, {
    401: 'Bad credentials, the same answer for an unknown email (UNAUTHORIZED)',
    429: '5 failed logins for this email from this address within 15 min (RATE_LIMITED, retryAfterMs)',
  })
  login(@Body() dto: LoginDto, @Ip() address: string) {
    return this.auth.login(dto.email, dto.password, address);
  }

  @Public()
  @SystemScope('auth.refresh')
  @Post('auth/refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Trade a refresh token for a new pair',
    description:
      'The refresh token is spent by this call. Presenting a spent one again answers 401 and revokes its whole ' +
      'token family (every token issued from the same sign-in).',
  })
  @ApiResponse({ status: 200, type: AuthResponseDto, description: 'A new access and refresh token' })
  @ApiErrorResponses(400, {
    401: 'Unknown, expired or spent refresh token (UNAUTHORIZED)',
    429: 'Too many refreshes from this address (RATE_LIMITED, retryAfterMs)',
  })
  refresh(@Body() dto: RefreshDto, @Ip() address: string) {
    return this.auth.refresh(dto.refreshToken, address);
  }

  @Public()
  @SystemScope('auth.logout')
  @Post('auth/logout')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Sign out',
    description: 'Revokes the refresh token and its family; access tokens already issued live until they expire.',
  })
  @ApiResponse({ status: 204, description: 'Revoked' })
  @ApiErrorResponses(400, { 401: 'Unknown refresh token (UNAUTHORIZED)' })
  logout(@Body() dto: RefreshDto) {
    return this.auth.logout(dto.refreshToken);
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOperation({ summary: 'The signed-in user', description: 'The user the bearer token belongs to.' })
  @ApiResponse({ status: 200, type: UserDto, description: 'The user' })
  @ApiErrorResponses(401)
  me(@CurrentUserId() userId: string) {
    return this.auth.me(userId);
  }
}
