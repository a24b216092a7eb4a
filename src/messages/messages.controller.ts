import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { AccessService } from '../access/access.service';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { AppConfigService } from '../config/app-config.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { AppException } from '../common/app.exception';
import {
  EmojiParamDto,
  EventPageDto,
  EventsQueryDto,
  HistoryQueryDto,
  LastReadDto,
  MessageDto,
  MessagePageDto,
  PatchMessageDto,
  PostMessageDto,
  ReadMarkDto,
} from './dto/message.dto';
import { MessageCommands } from './message-commands.service';
import { MessageQueries } from './message-queries.service';
import { ReadMarks } from './read-marks.service';
import { SendPipeline } from './send/send-pipeline';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('workspaces/:wid/channels/:cid')
export class MessagesController {
  constructor(
    private readonly pipeline: SendPipeline,
    private readonly commands: MessageCommands,
    private readonly queries: MessageQueries,
    private readonly readMarks: ReadMarks,
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
    const { unheard, ...page } = query;
    return this.queries.history(cid, { ...page, limit: page.limit ?? 50, unheardFor: unheard ? userId : undefined });
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
    const result = await this.pipeline.send(userId, { ...dto, channelId: cid }, wid);
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
    return this.queries.eventPage(cid, query.after ?? 0, query.limit ?? this.config.get('SYNC_PAGE_LIMIT'));
  }

  @Patch('messages/:mid')
  @ApiOperation({
    summary: 'Edit a text message (as `message:edit`)',
    description: 'Author only (others 403); appends a `message.updated` event. A message of another channel or workspace answers 404.',
  })
  @ApiIdParams('wid', 'cid', 'mid')
  @ApiResponse({ status: 200, type: MessageDto, description: 'The message as it now is' })
  @ApiErrorResponses(400, 401, { 403: 'Not the author (FORBIDDEN)', 404: 'No such message in this channel (NOT_FOUND)' }, 429)
  async edit(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Param('mid', ParseIdPipe) mid: string,
    @Body() dto: PatchMessageDto,
  ) {
    await this.requireMessageInChannel(userId, wid, cid, mid);
    return this.commands.edit(userId, mid, dto.body, wid);
  }

  @Delete('messages/:mid')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a message (as `message:delete`)',
    description: 'Author, or a workspace owner/admin; the message keeps its id and seq with an empty body. Deleting twice is a no-op.',
  })
  @ApiIdParams('wid', 'cid', 'mid')
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrorResponses(401, { 403: 'Neither the author nor an admin (FORBIDDEN)', 404: 'No such message in this channel (NOT_FOUND)' }, 429)
  async delete(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Param('mid', ParseIdPipe) mid: string,
  ): Promise<void> {
    await this.requireMessageInChannel(userId, wid, cid, mid);
    await this.commands.delete(userId, mid, wid);
  }

  @Put('messages/:mid/reactions/:emoji')
  @HttpCode(204)
  @ApiParam({ name: 'emoji', description: 'The emoji, URL-encoded, 1..32 characters' })
  @ApiOperation({
    summary: 'Add the caller\'s reaction (as `reaction:add`)',
    description: 'Idempotent: a reaction the caller already gave answers 204 without a new event.',
  })
  @ApiIdParams('wid', 'cid', 'mid')
  @ApiResponse({ status: 204, description: 'The reaction is there' })
  @ApiErrorResponses(400, 401, { 404: 'No such message in this channel (NOT_FOUND)', 409: '50 different reactions already (LIMIT_REACHED)' }, 429)
  async react(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Param('mid', ParseIdPipe) mid: string,
    @Param() params: EmojiParamDto,
  ): Promise<void> {
    await this.requireMessageInChannel(userId, wid, cid, mid);
    await this.commands.addReaction(userId, mid, params.emoji, wid);
  }

  @Delete('messages/:mid/reactions/:emoji')
  @HttpCode(204)
  @ApiParam({ name: 'emoji', description: 'The emoji, URL-encoded, 1..32 characters' })
  @ApiOperation({
    summary: 'Remove the caller\'s reaction (as `reaction:remove`)',
    description: 'Idempotent: removing a reaction the caller did not give answers 204 without an event.',
  })
  @ApiIdParams('wid', 'cid', 'mid')
  @ApiResponse({ status: 204, description: 'The reaction is gone' })
  @ApiErrorResponses(400, 401, { 404: 'No such message in this channel (NOT_FOUND)' }, 429)
  async unreact(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Param('mid', ParseIdPipe) mid: string,
    @Param() params: EmojiParamDto,
  ): Promise<void> {
    await this.requireMessageInChannel(userId, wid, cid, mid);
    await this.commands.removeReaction(userId, mid, params.emoji, wid);
  }

  @Put('read')
  @ApiOperation({
    summary: 'Move the caller\'s read mark (as `channel:read`)',
    description: 'The mark never moves back and never past the channel head; emits `read` to the channel room.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: LastReadDto, description: 'The read mark as it now is' })
  @ApiErrorResponses(400, 401, { 404: 'Not a member of this channel (NOT_FOUND)' })
  markRead(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: ReadMarkDto,
  ): Promise<LastReadDto> {
    return this.readMarks.markRead(userId, cid, dto.seq, wid);
  }

  /** The path names a channel; a message of another channel (or invisible one) answers 404. */
  private async requireMessageInChannel(userId: string, wid: string, cid: string, mid: string): Promise<void> {
    const message = await this.queries.get(userId, mid, wid);
    if (message.channelId !== cid) throw AppException.notFound('Message');
  }
}
