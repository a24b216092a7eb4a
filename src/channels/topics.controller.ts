import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { CreateTopicDto, TopicDto } from './dto/topic.dto';
import { TopicsService } from './topics.service';

@ApiTags('channels')
@ApiBearerAuth()
@Controller('workspaces/:wid/channels/:cid/topics')
export class TopicsController {
  constructor(private readonly topics: TopicsService) {}

  @Post()
  @ApiOperation({
    summary: 'Start a topic',
    description: 'Channel members start topics; the channel gets a `topic.created` event.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 201, type: TopicDto, description: 'The new topic' })
  @ApiErrorResponses(400, 401, { 404: 'Unknown channel, or the caller is not a member (NOT_FOUND)' })
  create(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: CreateTopicDto,
  ) {
    return this.topics.create(userId, wid, cid, dto.title);
  }

  @Get()
  @ApiOperation({
    summary: 'Topics of a channel',
    description: 'Latest activity (creation or newest message) first; a bare array.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: [TopicDto], description: 'The topics' })
  @ApiErrorResponses(401, { 404: 'Unknown channel, or the caller is not a member (NOT_FOUND)' })
  list(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
  ) {
    return this.topics.list(userId, wid, cid);
  }
}
