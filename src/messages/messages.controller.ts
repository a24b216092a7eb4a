import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { AccessService } from '../access/access.service';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { AppConfigService } from '../config/app-config.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import {
  EventPageDto,
  EventsQueryDto,
  HistoryQueryDto,
  MessageDto,
  MessagePageDto,
  PostMessageDto,
} from './dto/message.dto';
import { MessagesService } from './messages.service';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('workspaces/:wid/channels/:cid')
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly access: AccessService,
    private readonly rateLimit: RateLimitService,
    private readonly config: AppConfigService,
  ) {}

  @Get('messages')
  @ApiOperation({
    summary: 'Message history',
    description:
      'Messages in ascending seq. Without a cursor, the newest page; `before` pages back, `after` forward; ' +
      '`limit` 1..200 (default 50; outside that 400). `topicId` narrows to one topic.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: MessagePageDto, description: 'A page of messages' })
  @ApiErrorResponses(400, 401, { 404: 'Unknown channel, or the caller is not a member (NOT_FOUND)' })
  async history(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Query() query: HistoryQueryDto,
  ) {
    await this.access.requireChannelMember(cid, userId, wid);
    return this.messages.history(cid, { ...query, limit: query.limit ?? 50 });
  }

  @Post('messages')
  @ApiOperation({
    summary: 'Post a text message',
    description:
      'Idempotent on (author, channel, clientMsgId): a retry answers 200 with the first message, never a second ' +
      'one. The channel gets `message.created`. Counts against the per-user send rate limit, shared with the socket.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 201, type: MessageDto, description: 'Created' })
  @ApiResponse({ status: 200, type: MessageDto, description: 'The message first created with this clientMsgId' })
  @ApiErrorResponses(
    400,
    401,
    { 404: 'Unknown channel, topic or replied-to message, or not a member (NOT_FOUND)' },
    { 409: 'clientMsgId already used for a voice message (CONFLICT)' },
    413,
    429,
  )
  async post(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: PostMessageDto,
    @Res({ passthrough: true }) response: Response,
  ) {
    await this.rateLimit.consumeWrite(userId);
    const result = await this.messages.send(userId, { ...dto, channelId: cid }, wid);
    response.status(result.created ? 201 : 200);
    return result.message;
  }

  @Get('events')
  @ApiOperation({
    summary: 'Channel events after a seq',
    description:
      'The channel event log (the same events as the socket `event` and `sync`), ascending from `after`; ' +
      '`hasMore` says to ask again from the last seq.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: EventPageDto, description: 'A page of events' })
  @ApiErrorResponses(400, 401, { 404: 'Unknown channel, or the caller is not a member (NOT_FOUND)' })
  async events(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Query() query: EventsQueryDto,
  ) {
    await this.access.requireChannelMember(cid, userId, wid);
    // The REST twin of `sync`: the same per-user budget of catch-up reads.
    await this.rateLimit.consumeSync(userId);
    return this.messages.events(cid, query.after ?? 0, query.limit ?? this.config.get('SYNC_PAGE_LIMIT'));
  }
}
