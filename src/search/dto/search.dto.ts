import { MessageDto } from '../../messages/dto/message.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { SEARCH_QUERY_MAX_LENGTH } from '../search-query';

const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class SearchQueryDto {
  @ApiProperty({
    description:
      'Words (websearch syntax: `"a phrase"`, `or`, `-word`) and inline filters `in:#channel`, `from:@userId|displayName`, ' +
      '`mentions:@userId|displayName`, `has:voice`, `before:YYYY-MM-DD`, `after:YYYY-MM-DD`; 1..200 characters',
    example: 'deploy "release notes" -draft from:@alice after:2026-01-01',
    minLength: 1,
    maxLength: SEARCH_QUERY_MAX_LENGTH,
  })
  @IsString()
  @MaxLength(SEARCH_QUERY_MAX_LENGTH)
  q: string;

  @ApiPropertyOptional({ description: 'Only this channel (one the caller is a member of)', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  channelId?: string;

  @ApiPropertyOptional({ description: 'Only messages by this user', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  authorId?: string;

  @ApiPropertyOptional({ description: 'Only messages in this topic', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  topicId?: string;

  @ApiPropertyOptional({ description: '`true`: only voice messages; `false`: only others', type: Boolean })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  hasVoice?: boolean;

  @ApiPropertyOptional({ description: 'Only messages created before this instant (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  before?: string;

  @ApiPropertyOptional({ description: 'Only messages created after this instant (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  after?: string;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page, with the same q and filters' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not one this server gave' })
  cursor?: string;

  @ApiPropertyOptional({ description: 'Results per page', minimum: 1, maximum: 50, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number;
}

export class SearchResultDto {
  @ApiProperty({ description: 'The message as in history (the contract message shape)', type: () => MessageDto })
  message: MessageDto;

  @ApiProperty({ description: 'Its channel', format: 'uuid' })
  channelId: string;

  @ApiProperty({ description: 'Its topic, or null', format: 'uuid', nullable: true, type: String })
  topicId: string | null;

  @ApiProperty({ description: 'Its seq in the channel, to jump to it (sync/history from seq)' })
  seq: number;

  @ApiProperty({
    description:
      'An excerpt of the body (or voice transcript) with matches wrapped in `<mark>`…`</mark>`; everything else is HTML-escaped',
    example: 'we ship the <mark>release</mark> on friday',
  })
  snippet: string;
}

export class SearchPageDto {
  @ApiProperty({ type: [SearchResultDto], description: 'By relevance (ts_rank), then newest first' })
  results: SearchResultDto[];

  @ApiProperty({ description: 'Opaque; pass as `cursor` for the next page; null on the last page', nullable: true, type: String })
  nextCursor: string | null;
}

export class SearchSettingsDto {
  @ApiProperty({
    description: 'Postgres text search configuration for this workspace (a pg_ts_config name, e.g. `simple`, `english`, `german`)',
    example: 'english',
  })
  @IsString()
  @Matches(/^[a-z_]{1,63}$/, { message: 'searchConfig must be a text search configuration name' })
  searchConfig: string;
}

export class SearchSettingsViewDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'english' }) searchConfig: string;
}
