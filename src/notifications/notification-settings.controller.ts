import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { NotificationLevelDto, SetNotificationLevelDto } from './dto/notification-level.dto';
import { NotificationSettingsService } from './notification-settings.service';

@ApiTags('push')
@ApiBearerAuth()
@Controller('workspaces/:wid/channels/:cid/notifications')
export class NotificationSettingsController {
  constructor(private readonly settings: NotificationSettingsService) {}

  @Put()
  @ApiOperation({ summary: 'Set your notification level for this channel (members only)' })
  @ApiResponse({ status: 200, type: NotificationLevelDto })
  @ApiResponse({ status: 404, description: 'Not a member of the channel, or another tenant (NOT_FOUND)' })
  setLevel(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: SetNotificationLevelDto,
  ) {
    return this.settings.setLevel(userId, wid, cid, dto.level);
  }
}
