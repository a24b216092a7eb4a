import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ParseIdPipe } from '../common/parse-id.pipe';
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
@ApiResponse({ status: 404, description: 'Unknown workspace or channel, or one the caller may not see (NOT_FOUND)' })
@Controller('workspaces/:wid')
export class ChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  @Post('channels')
  @ApiOperation({ summary: 'Create a public or private channel; the creator and memberIds join it' })
  @ApiResponse({ status: 201, type: ChannelDto })
  @ApiResponse({ status: 403, description: 'Guests may not create channels (FORBIDDEN)' })
  @ApiResponse({ status: 409, description: 'Name taken in this workspace (CONFLICT)' })
  create(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Body() dto: CreateChannelDto) {
    return this.channels.create(userId, wid, dto);
  }

  @Get('channels')
  @ApiOperation({ summary: 'Channels the caller may see, with read state and unread counts' })
  @ApiResponse({ status: 200, type: [ChannelListItemDto] })
  list(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string) {
    return this.channels.list(userId, wid);
  }

  @Post('channels/:cid/join')
  @HttpCode(200)
  @ApiOperation({ summary: 'Join a public channel (idempotent)' })
  @ApiResponse({ status: 200, type: ChannelDto })
  join(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
  ) {
    return this.channels.join(userId, wid, cid);
  }

  @Post('channels/:cid/members')
  @HttpCode(200)
  @ApiOperation({ summary: 'Add a workspace member to the channel (channel members and owners/admins)' })
  @ApiResponse({ status: 200, type: ChannelMembershipDto })
  @ApiResponse({ status: 403, description: 'Not a channel member nor an admin, or a DM (FORBIDDEN)' })
  addMember(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: AddChannelMemberDto,
  ) {
    return this.channels.addMember(userId, wid, cid, dto.userId);
  }

  @Delete('channels/:cid/members/:uid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member (owners/admins) or leave (uid is self); not for DMs' })
  @ApiResponse({ status: 204, description: 'Removed on every node' })
  @ApiResponse({ status: 403, description: 'Removing someone else without being an admin, or a DM (FORBIDDEN)' })
  async removeMember(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Param('uid', ParseIdPipe) uid: string,
  ): Promise<void> {
    await this.channels.removeMember(userId, wid, cid, uid);
  }

  @Post('dms')
  @ApiOperation({ summary: 'Open the direct channel of exactly these members plus the caller' })
  @ApiResponse({ status: 201, type: ChannelDto, description: 'A new DM' })
  @ApiResponse({ status: 200, type: ChannelDto, description: 'The existing DM of this set of members' })
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
