import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { AccessService } from '../access/access.service';
import { CurrentUserId } from '../auth/current-user.decorator';
import { AppConfigService } from '../config/app-config.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { EventPageDto, EventsQueryDto, HistoryQueryDto, MessagePageDto, PostMessageDto } from './dto/message.dto';
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
  @ApiOperation({ summary: 'History by seq: newest page without a cursor, `before`/`after` to page' })
  @ApiResponse({ status: 200, type: MessagePageDto })
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
  @ApiOperation({ summary: 'Post a message; idempotent on (author, channel, clientMsgId)' })
  @ApiResponse({ status: 201, description: 'Created' })
  @ApiResponse({ status: 200, description: 'The message first created with this clientMsgId' })
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
  @ApiOperation({ summary: 'The channel event log after a seq (same events as the socket)' })
  @ApiResponse({ status: 200, type: EventPageDto })
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
