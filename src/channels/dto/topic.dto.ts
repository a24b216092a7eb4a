import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { Trim } from '../../common/validators';

export class CreateTopicDto {
  @ApiProperty({ description: 'Topic title, 1..200 characters after trim', example: 'Launch checklist' })
  @Trim()
  @IsString()
  @Length(1, 200)
  title: string;
}

export class TopicDto {
  @ApiProperty({ description: 'Topic id' }) id: string;
  @ApiProperty({ description: 'Channel id' }) channelId: string;
  @ApiProperty({ description: 'Workspace id' }) workspaceId: string;
  @ApiProperty({ description: 'Title' }) title: string;
  @ApiProperty({ description: 'Creator user id' }) createdBy: string;
  @ApiProperty({ description: 'Creation time, ISO-8601' }) createdAt: string;
  @ApiProperty({ description: 'Creation or newest message time, ISO-8601' }) lastActivityAt: string;
}
