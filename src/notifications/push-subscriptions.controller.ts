import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { Public } from '../auth/public.decorator';
import { ApiErrorResponses } from '../common/api-docs';
import {
  CreatePushSubscriptionDto,
  DeletePushSubscriptionDto,
  PushSubscriptionDto,
  VapidPublicKeyDto,
} from './dto/push-subscription.dto';
import { PushSubscriptionsService } from './push-subscriptions.service';
import { SystemScope } from '../tenancy/system-scope.decorator';

@ApiTags('push')
@Controller()
export class PushSubscriptionsController {
  constructor(private readonly subscriptions: PushSubscriptionsService) {}

  @Public()
  @Get('push/vapid-public-key')
  @ApiOperation({
    summary: "The server's VAPID public key",
    description: 'The `applicationServerKey` for `pushManager.subscribe`; no auth. 404 while push is off.',
  })
  @ApiResponse({ status: 200, type: VapidPublicKeyDto, description: 'The key' })
  @ApiErrorResponses({ 404: 'Push is not configured on this server (NOT_FOUND)' })
  publicKey() {
    return this.subscriptions.publicKey();
  }

  @ApiBearerAuth()
  // An endpoint names a browser: the account that subscribes it last takes it over from whoever held it.
  @SystemScope('push.subscribe')
  @Post('me/push-subscriptions')
  @ApiOperation({
    summary: "Register this browser's push subscription",
    description:
      'The JSON of `PushSubscription.toJSON()`. Upserts by endpoint: the same endpoint registered again keeps its ' +
      'id and moves to the caller.',
  })
  @ApiResponse({ status: 201, type: PushSubscriptionDto, description: 'The subscription' })
  @ApiErrorResponses(
    { 400: 'Bad endpoint (scheme, non-public address) or keys (VALIDATION)' },
    401,
    { 404: 'Push is not configured on this server (NOT_FOUND)' },
  )
  subscribe(@CurrentUserId() userId: string, @Body() dto: CreatePushSubscriptionDto) {
    return this.subscriptions.subscribe(userId, dto);
  }

  @ApiBearerAuth()
  @Delete('me/push-subscriptions')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove one of your push subscriptions',
    description: 'By endpoint; 204 also when there was none.',
  })
  @ApiResponse({ status: 204, description: 'Removed' })
  @ApiErrorResponses(400, 401, { 404: 'Push is not configured on this server (NOT_FOUND)' })
  async unsubscribe(@CurrentUserId() userId: string, @Body() dto: DeletePushSubscriptionDto): Promise<void> {
    await this.subscriptions.unsubscribe(userId, dto.endpoint);
  }
}
