import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiErrorResponses } from '../common/api-docs';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { SearchPageDto, SearchQueryDto, SearchSettingsDto, SearchSettingsViewDto } from './dto/search.dto';
import { SearchService } from './search.service';

@ApiTags('search')
@ApiBearerAuth()
@Controller('workspaces/:wid')
export class SearchController {
  constructor(private readonly search: SearchService) {}

  @Get('search')
  @ApiOperation({
    summary: 'Full-text search over the messages the caller may read',
    description:
      'Searches text message bodies and voice transcripts in every channel of the workspace the caller is a member of now ' +
      '(public channels joined, private channels and direct messages included for members). Deleted messages are never ' +
      'found; edited ones by their current text. Words use Postgres websearch syntax with the workspace text search ' +
      'configuration: `"exact phrase"`, `a or b`, `-excluded`. Inline filters in `q`: `in:#channel`, `from:@userId|displayName`, ' +
      '`mentions:@userId|displayName`, `has:voice`, `before:YYYY-MM-DD` (earlier than that day, UTC), `after:YYYY-MM-DD` ' +
      '(that day or later); a `q` of filters only lists matching messages newest first. Results are ordered by ts_rank, ' +
      'then newest first, each with a `<mark>` excerpt (HTML-escaped) and its channel, topic and seq.',
  })
  @ApiParam({ name: 'wid', format: 'uuid', description: 'Workspace id' })
  @ApiResponse({ status: 200, type: SearchPageDto })
  @ApiErrorResponses(
    { 400: 'Empty or over-long q, unclosed quote, unknown filter, bad date, bad cursor or limit (VALIDATION)' },
    401,
    { 404: 'Unknown workspace, not a member, or a channel/user filter naming nothing the caller can see (NOT_FOUND)' },
    { 429: 'Per-user search limit (SEARCH_RATE_BURST / SEARCH_RATE_PER_SECOND) reached (RATE_LIMITED)' },
  )
  find(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Query() query: SearchQueryDto) {
    return this.search.search(userId, wid, query);
  }

  // PATCH /workspaces/:wid lives here because only searchConfig is settable so far; move it to
  // WorkspacesController when other workspace fields become editable.
  @Patch()
  @ApiOperation({
    summary: 'Workspace settings: the text search configuration (owners/admins)',
    description:
      'Sets `searchConfig` to a Postgres text search configuration (`simple` by default; `english`, `german`, … as ' +
      'listed in pg_ts_config). The workspace messages are re-indexed with it before the call answers.',
  })
  @ApiParam({ name: 'wid', format: 'uuid', description: 'Workspace id' })
  @ApiResponse({ status: 200, type: SearchSettingsViewDto })
  @ApiErrorResponses(
    { 400: 'Unknown configuration name (VALIDATION)' },
    401,
    { 403: 'Not an owner or admin (FORBIDDEN)', 404: 'Unknown workspace or not a member (NOT_FOUND)' },
  )
  update(@CurrentUserId() userId: string, @Param('wid', ParseIdPipe) wid: string, @Body() dto: SearchSettingsDto) {
    return this.search.setSearchConfig(userId, wid, dto.searchConfig);
  }
}
