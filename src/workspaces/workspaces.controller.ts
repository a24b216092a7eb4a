import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { ChangeRoleDto, CreateWorkspaceDto, MemberDto, WorkspaceDto } from './dto/workspace.dto';
import { MembersService } from './members.service';
import { WorkspacesService } from './workspaces.service';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('workspaces')
export class WorkspacesController {
  constructor(
    private readonly workspaces: WorkspacesService,
    private readonly members: MembersService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a workspace; the caller becomes owner and joins its public `general` channel' })
  @ApiResponse({ status: 201, type: WorkspaceDto })
  @ApiResponse({ status: 409, description: 'Slug taken (CONFLICT)' })
  create(@CurrentUserId() userId: string, @Body() dto: CreateWorkspaceDto) {
    return this.workspaces.create(userId, dto.name, dto.slug);
  }

  @Get()
  @ApiOperation({ summary: 'Workspaces the caller belongs to, each with their role' })
  @ApiResponse({ status: 200, type: [WorkspaceDto] })
  list(@CurrentUserId() userId: string) {
    return this.workspaces.list(userId);
  }

  @Get(':wid')
  @ApiOperation({ summary: 'One workspace the caller belongs to' })
  @ApiResponse({ status: 200, type: WorkspaceDto })
  @ApiResponse({ status: 404, description: 'Unknown workspace or not a member (NOT_FOUND)' })
  get(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string) {
    return this.workspaces.get(userId, wid);
  }

  @Get(':wid/members')
  @ApiOperation({ summary: 'Members with role and presence' })
  @ApiResponse({ status: 200, type: [MemberDto] })
  @ApiResponse({ status: 404, description: 'Unknown workspace or not a member (NOT_FOUND)' })
  listMembers(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string) {
    return this.members.list(userId, wid);
  }

  @Patch(':wid/members/:uid')
  @ApiOperation({ summary: "Change a member's role (owners/admins; only owners grant or take away `owner`)" })
  @ApiResponse({ status: 200, type: MemberDto })
  @ApiResponse({ status: 403, description: 'Not allowed for the caller’s role (FORBIDDEN)' })
  @ApiResponse({ status: 404, description: 'Unknown workspace or member (NOT_FOUND)' })
  @ApiResponse({ status: 409, description: 'Demoting the last owner (CONFLICT)' })
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
  @ApiOperation({ summary: 'Remove a member (owners/admins) or leave (uid is self); takes effect on every node first' })
  @ApiResponse({ status: 204, description: 'Removed; their sockets have left every room of the workspace' })
  @ApiResponse({ status: 403, description: 'Not allowed for the caller’s role (FORBIDDEN)' })
  @ApiResponse({ status: 404, description: 'Unknown workspace or member (NOT_FOUND)' })
  @ApiResponse({ status: 409, description: 'The last owner cannot leave (CONFLICT)' })
  async removeMember(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('uid', ParseIdPipe) uid: string,
  ): Promise<void> {
    await this.members.remove(userId, wid, uid);
  }
}
