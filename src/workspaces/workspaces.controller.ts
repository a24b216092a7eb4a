import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { ChangeRoleDto, CreateWorkspaceDto, MemberDto, WorkspaceDto } from './dto/workspace.dto';
import { MembersService } from './members.service';
import { WorkspacesService } from './workspaces.service';
import { SystemScope } from '../tenancy/system-scope.decorator';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('workspaces')
export class WorkspacesController {
  constructor(
    private readonly workspaces: WorkspacesService,
    private readonly members: MembersService,
  ) {}

  @SystemScope('workspace.create')
  @Post()
  @ApiOperation({
    summary: 'Create a workspace',
    description: 'The caller becomes its owner; a public channel `general` is created with the owner in it.',
  })
  @ApiResponse({ status: 201, type: WorkspaceDto, description: 'The new workspace, role owner' })
  @ApiErrorResponses(400, 401, { 409: 'Slug taken (CONFLICT)' })
  create(@CurrentUserId() userId: string, @Body() dto: CreateWorkspaceDto) {
    return this.workspaces.create(userId, dto.name, dto.slug);
  }

  @Get()
  @ApiOperation({
    summary: 'Your workspaces',
    description: 'Every workspace the caller belongs to, each with their role; a bare array.',
  })
  @ApiResponse({ status: 200, type: [WorkspaceDto], description: 'The workspaces' })
  @ApiErrorResponses(401)
  list(@CurrentUserId() userId: string) {
    return this.workspaces.list(userId);
  }

  @Get(':wid')
  @ApiOperation({ summary: 'One workspace', description: 'A workspace the caller belongs to, with their role.' })
  @ApiIdParams('wid')
  @ApiResponse({ status: 200, type: WorkspaceDto, description: 'The workspace' })
  @ApiErrorResponses(401, { 404: 'Unknown workspace or not a member (NOT_FOUND)' })
  get(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string) {
    return this.workspaces.get(userId, wid);
  }

  @Get(':wid/members')
  @ApiOperation({
    summary: 'Workspace members',
    description: 'Every member with their role and live presence (online, away, dnd, offline); a bare array.',
  })
  @ApiIdParams('wid')
  @ApiResponse({ status: 200, type: [MemberDto], description: 'The members' })
  @ApiErrorResponses(401, { 404: 'Unknown workspace or not a member (NOT_FOUND)' })
  listMembers(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string) {
    return this.members.list(userId, wid);
  }

  @Patch(':wid/members/:uid')
  @ApiOperation({
    summary: "Change a member's role",
    description: 'Owners and admins only; only owners grant or take away `owner`. The last owner cannot be demoted.',
  })
  @ApiIdParams('wid', 'uid')
  @ApiResponse({ status: 200, type: MemberDto, description: 'The member with the new role' })
  @ApiErrorResponses(
    400,
    401,
    { 403: 'Not allowed for the caller’s role (FORBIDDEN)' },
    { 404: 'Unknown workspace or member (NOT_FOUND)' },
    { 409: 'Demoting the last owner (CONFLICT)' },
  )
  changeRole(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('uid', ParseIdPipe) uid: string,
    @Body() dto: ChangeRoleDto,
  ) {
    return this.members.changeRole(userId, wid, uid, dto.role);
  }

  @Delete(':wid/members/:uid')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove a member, or leave',
    description:
      'Owners and admins remove others; anyone may remove themselves (uid = self). It takes effect on every node ' +
      "before the answer: the user's live sockets have left every room of the workspace.",
  })
  @ApiIdParams('wid', 'uid')
  @ApiResponse({ status: 204, description: 'Removed; their sockets have left every room of the workspace' })
  @ApiErrorResponses(
    401,
    { 403: 'Not allowed for the caller’s role (FORBIDDEN)' },
    { 404: 'Unknown workspace or member (NOT_FOUND)' },
    { 409: 'The last owner cannot leave (CONFLICT)' },
  )
  async removeMember(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('uid', ParseIdPipe) uid: string,
  ): Promise<void> {
    await this.members.remove(userId, wid, uid);
  }
}
