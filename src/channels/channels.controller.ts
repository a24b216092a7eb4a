import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { ChannelMembersService } from './channel-members.service';
import { ChannelsService } from './channels.service';
import {
  AddChannelMemberDto,
  ChannelDto,
  ChannelListItemDto,
  ChannelMembershipDto,
  CreateChannelDto,
  OpenDirectMessageDto,
} from './dto/channel.dto';

@ApiTags('channels')
@ApiBearerAuth()
@Controller('workspaces/:wid')
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly members: ChannelMembersService,
  ) {}

  @Post('channels')
  @ApiOperation({
    summary: 'Create a channel',
    description:
      'A public or private channel; the creator and memberIds (workspace members) join it. Guests may not create ' +
      'channels; a memberId outside the workspace answers 404.',
  })
  @ApiIdParams('wid')
  @ApiResponse({ status: 201, type: ChannelDto, description: 'The new channel' })
  @ApiErrorResponses(
    400,
    401,
    { 403: 'Guests may not create channels (FORBIDDEN)' },
    { 404: 'Unknown workspace, not a member, or a memberId outside it (NOT_FOUND)' },
    { 409: 'Name taken in this workspace (CONFLICT)' },
  )
  create(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Body() dto: CreateChannelDto) {
    return this.channels.create(userId, wid, dto);
  }

  @Get('channels')
  @ApiOperation({
    summary: 'Channels you may see',
    description:
      'Member channels (DMs included) and the public channels a non-guest may join, with read marks and unread ' +
      'counts; a bare array.',
  })
  @ApiIdParams('wid')
  @ApiResponse({ status: 200, type: [ChannelListItemDto], description: 'The channels' })
  @ApiErrorResponses(401, { 404: 'Unknown workspace or not a member (NOT_FOUND)' })
  list(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string) {
    return this.channels.list(userId, wid);
  }

  @Post('channels/:cid/join')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Join a public channel',
    description: 'Idempotent. The socket of the caller joins the channel room at once; private channels answer 404.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: ChannelDto, description: 'The channel joined' })
  @ApiErrorResponses(401, { 404: 'Unknown or private channel, or another workspace (NOT_FOUND)' })
  join(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
  ) {
    return this.members.join(userId, wid, cid);
  }

  @Post('channels/:cid/members')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add a member to the channel',
    description: 'Allowed to members of the channel and to workspace owners/admins; DMs have a fixed member set.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 200, type: ChannelMembershipDto, description: 'Added (or already a member)' })
  @ApiErrorResponses(
    400,
    401,
    { 403: 'Not a channel member nor an admin, or a DM (FORBIDDEN)' },
    { 404: 'Unknown channel, or the user is not in the workspace (NOT_FOUND)' },
  )
  addMember(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: AddChannelMemberDto,
  ) {
    return this.members.addMember(userId, wid, cid, dto.userId);
  }

  @Delete('channels/:cid/members/:uid')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove a member from the channel, or leave it',
    description:
      'Workspace owners/admins remove others; anyone leaves (uid = self). Not for DMs. Takes effect on every node ' +
      "before the answer: the user's sockets have left the channel room.",
  })
  @ApiIdParams('wid', 'cid', 'uid')
  @ApiResponse({ status: 204, description: 'Removed on every node' })
  @ApiErrorResponses(
    401,
    { 403: 'Removing someone else without being an admin, or a DM (FORBIDDEN)' },
    { 404: 'Unknown channel, or the user is not a member (NOT_FOUND)' },
  )
  async removeMember(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Param('uid', ParseIdPipe) uid: string,
  ): Promise<void> {
    await this.members.remove(userId, wid, cid, uid);
  }

  @Post('dms')
  @ApiOperation({
    summary: 'Open a direct message channel',
    description:
      'The `direct` channel of exactly these members plus the caller: 201 when new, 200 with the same channel for ' +
      'the same set.',
  })
  @ApiIdParams('wid')
  @ApiResponse({ status: 201, type: ChannelDto, description: 'A new DM' })
  @ApiResponse({ status: 200, type: ChannelDto, description: 'The existing DM of this set of members' })
  @ApiErrorResponses(400, 401, { 404: 'Unknown workspace, or a user outside it (NOT_FOUND)' })
  async openDirect(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Body() dto: OpenDirectMessageDto,
    @Res({ passthrough: true }) response: Response,
  ) {
    const { channel, created } = await this.channels.openDirect(userId, wid, dto.userIds);
    response.status(created ? 201 : 200);
    return channel;
  }
}
