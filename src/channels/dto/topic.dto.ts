import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { Trim } from '../../common/validators';

export class CreateTopicDto {
  @ApiProperty({ description: 'Topic title, 1..200 characters after trim', minLength: 1, maxLength: 200, example: 'Launch checklist' })
  @Trim()
  @IsString()
  @Length(1, 200)
  title: string;
}

export class TopicDto {
  @ApiProperty({ description: 'Topic id', format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Channel id', format: 'uuid' }) channelId: string;
  @ApiProperty({ description: 'Workspace id', format: 'uuid' }) workspaceId: string;
  @ApiProperty({ description: 'Title', example: 'Launch checklist' }) title: string;
  @ApiProperty({ description: 'Creator user id', format: 'uuid' }) createdBy: string;
  @ApiProperty({ description: 'Creation time, ISO-8601', format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'Creation or newest message time, ISO-8601', format: 'date-time' }) lastActivityAt: string;
}
