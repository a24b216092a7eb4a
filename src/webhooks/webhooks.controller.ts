import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { CreateWebhookDto, WebhookDeliveryDto, WebhookDto } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiBearerAuth()
@ApiResponse({ status: 403, description: 'Not an owner or admin of the workspace (FORBIDDEN)' })
@ApiResponse({ status: 404, description: 'Unknown workspace or webhook, or another tenant (NOT_FOUND)' })
@Controller('workspaces/:wid/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Register a webhook for channel events of this workspace (owner/admin)' })
  @ApiResponse({ status: 201, type: WebhookDto })
  @ApiResponse({
    status: 400,
    description: 'Bad URL (scheme, or a non-public address) or unknown event type (VALIDATION)',
  })
  create(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Body() dto: CreateWebhookDto) {
    return this.webhooks.create(userId, wid, dto);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'The newest 200 deliveries of a webhook with every attempt, newest first (owner/admin)' })
  @ApiResponse({ status: 200, type: [WebhookDeliveryDto] })
  deliveries(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('id', ParseIdPipe) id: string,
  ) {
    return this.webhooks.deliveries(userId, wid, id);
  }
}
