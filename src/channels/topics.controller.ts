import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { CreateTopicDto, TopicDto } from './dto/topic.dto';
import { TopicsService } from './topics.service';

@ApiTags('channels')
@ApiBearerAuth()
@ApiResponse({ status: 404, description: 'Unknown channel, or the caller is not a member (NOT_FOUND)' })
@Controller('workspaces/:wid/channels/:cid/topics')
export class TopicsController {
  constructor(private readonly topics: TopicsService) {}

  @Post()
  @ApiOperation({ summary: 'Start a topic in the channel (channel members)' })
  @ApiResponse({ status: 201, type: TopicDto })
  create(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: CreateTopicDto,
  ) {
    return this.topics.create(userId, wid, cid, dto.title);
  }

  @Get()
  @ApiOperation({ summary: 'Topics of the channel, latest activity first' })
  @ApiResponse({ status: 200, type: [TopicDto] })
  list(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
  ) {
    return this.topics.list(userId, wid, cid);
  }
}
