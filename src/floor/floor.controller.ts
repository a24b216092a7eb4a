import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { FloorEventDto } from './dto/floor.dto';
import { FloorService } from './floor.service';

@ApiTags('channels')
@ApiBearerAuth()
@Controller('workspaces/:wid/channels')
export class FloorController {
  constructor(private readonly floor: FloorService) {}

  @Get(':cid/floor')
  @ApiOperation({
    summary: 'The push-to-talk floor now',
    description:
      'The shape of the `floor` socket event, for a client opening a ptt channel (the events only say what changes). ' +
      'A chat channel answers 400.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: FloorEventDto, description: 'Holder, queue and rev' })
  @ApiErrorResponses(401, { 400: 'Not a ptt channel (VALIDATION)' }, { 404: 'Unknown channel, or not a member (NOT_FOUND)' })
  current(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Param('cid', ParseIdPipe) cid: string) {
    return this.floor.current(userId, wid, cid);
  }
}
