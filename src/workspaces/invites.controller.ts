import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
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

  @Delete('workspaces/:wid/invites/:code')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke an invite (owners/admins)',
    description: 'The code answers 404 to accept from then on; members who joined with it stay.',
  })
  @ApiResponse({ status: 204, description: 'Revoked' })
  @ApiResponse({ status: 401, description: 'Missing or invalid access token (UNAUTHORIZED)' })
  @ApiResponse({ status: 403, description: 'Not an owner or admin (FORBIDDEN)' })
  @ApiResponse({ status: 404, description: 'Unknown workspace, not a member, or unknown/already revoked code (NOT_FOUND)' })
  async revoke(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Param('code') code: string): Promise<void> {
    await this.invites.revoke(userId, wid, code);
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
