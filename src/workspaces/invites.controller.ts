import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { AcceptedInviteDto, CreateInviteDto, InviteDto } from './dto/invite.dto';
import { InvitesService } from './invites.service';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller()
export class InvitesController {
  constructor(private readonly invites: InvitesService) {}

  @Post('workspaces/:wid/invites')
  @ApiOperation({ summary: 'Create an invite code (owners/admins)' })
  @ApiResponse({ status: 201, type: InviteDto })
  @ApiResponse({ status: 403, description: 'Not an owner or admin (FORBIDDEN)' })
  @ApiResponse({ status: 404, description: 'Unknown workspace or not a member (NOT_FOUND)' })
  create(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Body() dto: CreateInviteDto) {
    return this.invites.create(userId, wid, dto);
  }

  @Post('invites/:code/accept')
  @HttpCode(200)
  @ApiOperation({ summary: 'Join the workspace of an invite and its `general` channel; idempotent for members' })
  @ApiResponse({ status: 200, type: AcceptedInviteDto })
  @ApiResponse({ status: 404, description: 'Unknown, expired or used-up invite (NOT_FOUND)' })
  accept(@CurrentUserId() userId: string, @Param('code') code: string) {
    return this.invites.accept(userId, code);
  }
}
