import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { CreateWebhookDto, WebhookDeliveryDto, WebhookDto } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('workspaces/:wid/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a webhook',
    description:
      'Owners and admins. Each channel event of the workspace whose type is listed is POSTed to the URL, signed ' +
      'with the returned secret (Pigeon-Signature); the secret is shown only in this answer.',
  })
  @ApiIdParams('wid')
  @ApiResponse({ status: 201, type: WebhookDto, description: 'The webhook, with its secret' })
  @ApiErrorResponses(
    { 400: 'Bad URL (scheme, or a non-public address) or unknown event type (VALIDATION)' },
    401,
    { 403: 'Not an owner or admin of the workspace (FORBIDDEN)' },
    { 404: 'Unknown workspace, or another tenant (NOT_FOUND)' },
  )
  create(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Body() dto: CreateWebhookDto) {
    return this.webhooks.create(userId, wid, dto);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary: 'Deliveries of a webhook',
    description: 'The newest 200 deliveries, newest first, each with every attempt (owners and admins).',
  })
  @ApiIdParams('wid', 'id')
  @ApiResponse({ status: 200, type: [WebhookDeliveryDto], description: 'The deliveries' })
  @ApiErrorResponses(
    401,
    { 403: 'Not an owner or admin of the workspace (FORBIDDEN)' },
    { 404: 'Unknown workspace or webhook, or another tenant (NOT_FOUND)' },
  )
  deliveries(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('id', ParseIdPipe) id: string,
  ) {
    return this.webhooks.deliveries(userId, wid, id);
  }
}
