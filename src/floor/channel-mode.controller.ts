import { Body, Controller, Param, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { ChannelDto } from '../channels/dto/channel.dto';
import { ChannelModeService } from './channel-mode.service';
import { ChannelModeDto } from './dto/floor.dto';

@ApiTags('channels')
@ApiBearerAuth()
@Controller('workspaces/:wid/channels')
export class ChannelModeController {
  constructor(private readonly modes: ChannelModeService) {}

  @Patch(':cid')
  @ApiOperation({
    summary: 'Change channel settings (mode)',
    description:
      'Owners/admins set `mode`: `chat`, or `ptt` (push-to-talk: one speaker at a time, floor:request). The channel ' +
      'gets `channel.updated`; back to `chat`, the floor is cleared. The same mode again answers the channel unchanged.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: ChannelDto, description: 'The channel' })
  @ApiErrorResponses(
    400,
    401,
    { 403: 'Not an owner or admin (FORBIDDEN)' },
    { 404: 'Unknown channel, or one the caller may not see (NOT_FOUND)' },
  )
  setMode(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: ChannelModeDto,
  ) {
    return this.modes.setMode(userId, wid, cid, dto.mode);
  }
}
