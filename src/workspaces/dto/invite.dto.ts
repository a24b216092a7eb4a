import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { WORKSPACE_ROLES, type WorkspaceRole } from '../workspace-member.entity';

export const INVITE_ROLES = ['member', 'guest'] as const;
export type InviteRole = (typeof INVITE_ROLES)[number];
export const DEFAULT_INVITE_HOURS = 168;

export class CreateInviteDto {
  @ApiPropertyOptional({ description: 'Role given on accept (default member)', enum: INVITE_ROLES, example: 'member' })
  @IsOptional()
  @IsIn(INVITE_ROLES)
  role?: InviteRole;

  @ApiPropertyOptional({
    description: 'How many people may accept, 1..10000; unlimited when absent',
    type: 'integer',
    minimum: 1,
    maximum: 10000,
    example: 10,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  maxUses?: number;

  @ApiPropertyOptional({
    description: `Hours until the code expires, 1..720 (default ${DEFAULT_INVITE_HOURS})`,
    type: 'integer',
    minimum: 1,
    maximum: 720,
    example: 48,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(720)
  expiresInHours?: number;
}

export class InviteDto {
  @ApiProperty({ description: 'The secret invite code for POST /api/invites/{code}/accept', example: 'k3Jd9QpL2xVb' })
  code: string;
  @ApiProperty({ description: 'Expiry, ISO-8601', format: 'date-time' }) expiresAt: string;
  @ApiProperty({ description: 'Role given on accept', enum: INVITE_ROLES }) role: InviteRole;
  @ApiProperty({ description: 'Uses allowed; null means unlimited', nullable: true, type: 'integer' }) maxUses:
    number | null;
}

export class AcceptedInviteDto {
  @ApiProperty({ description: 'The workspace joined', format: 'uuid' }) workspaceId: string;
  @ApiProperty({ description: 'The caller', format: 'uuid' }) userId: string;
  @ApiProperty({ description: "The caller's role (the existing one when already a member)", enum: WORKSPACE_ROLES })
  role: WorkspaceRole;
}
