import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { AcceptedInviteDto, CreateInviteDto, InviteDto } from './dto/invite.dto';
import { InvitesService } from './invites.service';
import { SystemScope } from '../tenancy/system-scope.decorator';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller()
export class InvitesController {
  constructor(private readonly invites: InvitesService) {}

  @Post('workspaces/:wid/invites')
  @ApiOperation({
    summary: 'Create an invite code',
    description: 'Owners and admins only. The code lets up to maxUses people join until it expires.',
  })
  @ApiIdParams('wid')
  @ApiResponse({ status: 201, type: InviteDto, description: 'The invite' })
  @ApiErrorResponses(
    400,
    401,
    { 403: 'Not an owner or admin (FORBIDDEN)' },
    { 404: 'Unknown workspace or not a member (NOT_FOUND)' },
  )
  create(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Body() dto: CreateInviteDto) {
    return this.invites.create(userId, wid, dto);
  }

  @Delete('workspaces/:wid/invites/:code')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke an invite (owners/admins)',
    description: 'The code answers 404 to accept from then on; members who joined with it stay.',
  })
  @ApiIdParams('wid')
  @ApiParam({ name: 'code', description: 'The invite code', example: 'k3Jd9QpL2xVb' })
  @ApiResponse({ status: 204, description: 'Revoked' })
  @ApiErrorResponses(401, { 403: 'Not an owner or admin (FORBIDDEN)', 404: 'Unknown workspace, not a member, or unknown/already revoked code (NOT_FOUND)' })
  async revoke(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Param('code') code: string): Promise<void> {
    await this.invites.revoke(userId, wid, code);
  }

  @SystemScope('invite.accept')
  @Post('invites/:code/accept')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Accept an invite',
    description:
      'Joins the workspace of the invite with its role, and its `general` channel. A member already in the ' +
      'workspace keeps their role and uses nothing up.',
  })
  @ApiParam({ name: 'code', description: 'The invite code from POST .../invites', example: 'k3Jd9QpL2xVb' })
  @ApiResponse({ status: 200, type: AcceptedInviteDto, description: 'Joined' })
  @ApiErrorResponses(401, { 404: 'Unknown, expired or used-up invite (NOT_FOUND)' })
  accept(@CurrentUserId() userId: string, @Param('code') code: string) {
    return this.invites.accept(userId, code);
  }
}
