import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { CHANNEL_NAME } from '../../common/validators';
import { CHANNEL_KINDS, CHANNEL_MODES, type ChannelKind, type ChannelMode } from '../channel.entity';

export const MAX_CHANNEL_INITIAL_MEMBERS = 1000;
export const MAX_DIRECT_MESSAGE_PEERS = 8;

export class CreateChannelDto {
  @ApiProperty({
    description: 'Unique per workspace: ^[a-z0-9][a-z0-9_-]{0,79}$',
    pattern: CHANNEL_NAME.source,
    example: 'design-review',
  })
  @IsString()
  @Matches(CHANNEL_NAME, { message: 'name must match ^[a-z0-9][a-z0-9_-]{0,79}$' })
  name: string;

  @ApiProperty({
    description: 'public: any non-guest member may see and join; private: members only',
    enum: ['public', 'private'],
    example: 'public',
  })
  @IsIn(['public', 'private'])
  kind: 'public' | 'private';

  @ApiPropertyOptional({
    description: `Workspace members to add besides the creator (at most ${MAX_CHANNEL_INITIAL_MEMBERS}); an id outside the workspace answers 404`,
    type: 'string',
    format: 'uuid',
    isArray: true,
    maxItems: MAX_CHANNEL_INITIAL_MEMBERS,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_CHANNEL_INITIAL_MEMBERS)
  @IsUUID('all', { each: true })
  memberIds?: string[];
}

export class AddChannelMemberDto {
  @ApiProperty({ description: 'A member of the workspace to add to the channel', format: 'uuid' })
  @IsUUID()
  userId: string;
}

export class OpenDirectMessageDto {
  @ApiProperty({
    description: `The other members of the DM, 1..${MAX_DIRECT_MESSAGE_PEERS} workspace member ids; the caller is always included`,
    type: 'string',
    format: 'uuid',
    isArray: true,
    minItems: 1,
    maxItems: MAX_DIRECT_MESSAGE_PEERS,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_DIRECT_MESSAGE_PEERS)
  @IsUUID('all', { each: true })
  userIds: string[];
}

export class ChannelDto {
  @ApiProperty({ description: 'Channel id', format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Workspace id', format: 'uuid' }) workspaceId: string;
  @ApiProperty({ description: 'Channel name; null for direct channels', nullable: true, type: String, example: 'general' })
  name: string | null;
  @ApiProperty({ description: 'Channel kind', enum: CHANNEL_KINDS, example: 'public' }) kind: ChannelKind;
  @ApiProperty({ description: 'chat, or ptt (push-to-talk: one speaker at a time)', enum: CHANNEL_MODES, example: 'chat' })
  mode: ChannelMode;
  @ApiProperty({ description: 'Creation time, ISO-8601', format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'The last seq of the channel event log', type: 'integer', example: 42 }) headSeq: number;
}

export class UnheardTopicDto {
  @ApiProperty({ description: 'Topic id', format: 'uuid' }) topicId: string;
  @ApiProperty({ description: 'Unheard voice messages in the topic', type: 'integer' }) unheardCount: number;
}

export class ChannelListItemDto extends ChannelDto {
  @ApiProperty({ description: "The caller's read marker (0 when not a member)", type: 'integer' }) lastReadSeq: number;
  @ApiProperty({ description: 'Messages after lastReadSeq by other authors, not deleted', type: 'integer' })
  unreadCount: number;
  @ApiProperty({ description: 'Voice messages of others the caller has not finished listening to', type: 'integer' })
  unheardCount: number;
  @ApiProperty({ description: 'The part of unheardCount in each topic (topics with none are left out)', type: () => [UnheardTopicDto] })
  unheardTopics: UnheardTopicDto[];
  @ApiProperty({ description: 'Whether the caller is a member (public channels may be listed without it)' })
  isMember: boolean;
}

export class ChannelMembershipDto {
  @ApiProperty({ description: 'Channel id', format: 'uuid' }) channelId: string;
  @ApiProperty({ description: 'The member added', format: 'uuid' }) userId: string;
}
