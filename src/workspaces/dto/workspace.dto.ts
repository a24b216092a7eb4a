import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length, Matches } from 'class-validator';
import { SLUG, Trim } from '../../common/validators';
import type { EffectiveStatus } from '../../presence/presence.service';
import { WORKSPACE_ROLES, type WorkspaceRole } from '../workspace-member.entity';

const PRESENCE_STATUSES: EffectiveStatus[] = ['online', 'away', 'dnd', 'offline'];

export class CreateWorkspaceDto {
  @ApiProperty({ description: 'Display name, 1..100 characters after trim', minLength: 1, maxLength: 100, example: 'Acme' })
  @Trim()
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiProperty({ description: 'Unique handle: ^[a-z0-9][a-z0-9-]{1,38}$', pattern: SLUG.source, example: 'acme' })
  @IsString()
  @Matches(SLUG, { message: 'slug must match ^[a-z0-9][a-z0-9-]{1,38}$' })
  slug: string;
}

export class ChangeRoleDto {
  @ApiProperty({ description: 'The new role; only owners may grant or take away `owner`', enum: WORKSPACE_ROLES, example: 'admin' })
  @IsIn(WORKSPACE_ROLES)
  role: WorkspaceRole;
}

export class WorkspaceDto {
  @ApiProperty({ description: 'Workspace id', format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Display name', example: 'Acme' }) name: string;
  @ApiProperty({ description: 'Unique handle', example: 'acme' }) slug: string;
  @ApiProperty({ description: 'Creation time, ISO-8601', format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: "The caller's role in it", enum: WORKSPACE_ROLES, example: 'owner' }) role: WorkspaceRole;
}

export class MemberDto {
  @ApiProperty({ description: 'User id', format: 'uuid' }) userId: string;
  @ApiProperty({ description: 'Display name', example: 'Ada' }) displayName: string;
  @ApiProperty({ description: 'Role in the workspace', enum: WORKSPACE_ROLES }) role: WorkspaceRole;
  @ApiProperty({ description: 'Live presence', enum: PRESENCE_STATUSES }) presence: EffectiveStatus;
}
