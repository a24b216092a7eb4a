import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { Public } from '../auth/public.decorator';
import {
  CreatePushSubscriptionDto,
  DeletePushSubscriptionDto,
  PushSubscriptionDto,
  VapidPublicKeyDto,
} from './dto/push-subscription.dto';
import { PushSubscriptionsService } from './push-subscriptions.service';

@ApiTags('push')
@ApiResponse({ status: 404, description: 'Push is not configured on this server (NOT_FOUND)' })
@Controller()
export class PushSubscriptionsController {
  constructor(private readonly subscriptions: PushSubscriptionsService) {}

  @Public()
  @Get('push/vapid-public-key')
  @ApiOperation({
    summary: "The server's VAPID public key, for pushManager.subscribe({applicationServerKey}); no auth",
  })
  @ApiResponse({ status: 200, type: VapidPublicKeyDto })
  publicKey() {
    return this.subscriptions.publicKey();
  }

  @ApiBearerAuth()
  @Post('me/push-subscriptions')
  @ApiOperation({ summary: "Register this browser's push subscription (upsert by endpoint)" })
  @ApiResponse({ status: 201, type: PushSubscriptionDto })
  @ApiResponse({ status: 400, description: 'Bad endpoint (scheme, non-public address) or keys (VALIDATION)' })
  subscribe(@CurrentUserId() userId: string, @Body() dto: CreatePushSubscriptionDto) {
    return this.subscriptions.subscribe(userId, dto);
  }

  @ApiBearerAuth()
  @Delete('me/push-subscriptions')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove one of your push subscriptions by endpoint (204 also when there was none)' })
  @ApiResponse({ status: 204 })
  async unsubscribe(@CurrentUserId() userId: string, @Body() dto: DeletePushSubscriptionDto): Promise<void> {
    await this.subscriptions.unsubscribe(userId, dto.endpoint);
  }
}
