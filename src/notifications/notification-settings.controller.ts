import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { NotificationLevelDto, SetNotificationLevelDto } from './dto/notification-level.dto';
import { NotificationSettingsService } from './notification-settings.service';

@ApiTags('push')
@ApiBearerAuth()
@Controller('workspaces/:wid/channels/:cid/notifications')
export class NotificationSettingsController {
  constructor(private readonly settings: NotificationSettingsService) {}

  @Put()
  @ApiOperation({
    summary: 'Set your notification level for a channel',
    description:
      'Which new messages of this channel send you a Web Push while you have no live socket: all, mentions or ' +
      'none (defaults: all for DMs, mentions elsewhere). Members only.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: NotificationLevelDto, description: 'The level now set' })
  @ApiErrorResponses(400, 401, { 404: 'Not a member of the channel, or another tenant (NOT_FOUND)' })
  setLevel(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: SetNotificationLevelDto,
  ) {
    return this.settings.setLevel(userId, wid, cid, dto.level);
  }
}
