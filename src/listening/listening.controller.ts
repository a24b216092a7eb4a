import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUserId } from '../auth/current-user.decorator';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { VoiceListenerDto } from './dto/listening.dto';
import { ListeningService } from './listening.service';

@ApiTags('voice')
@ApiBearerAuth()
@Controller('voice')
export class ListeningController {
  constructor(private readonly listening: ListeningService) {}

  @Get(':voiceId/listeners')
  @ApiOperation({
    summary: 'Who listened how far',
    description:
      'For the author and workspace owners/admins: everyone who played the voice message (`voice:progress`) or ' +
      'finished it (`voice:listened`), latest first; a bare array.',
  })
  @ApiIdParams('voiceId')
  @ApiResponse({ status: 200, type: [VoiceListenerDto], description: 'The listeners' })
  @ApiErrorResponses(
    401,
    { 403: 'A member who is neither the author nor an owner/admin (FORBIDDEN)' },
    { 404: 'Unknown or deleted voice message, or one the caller cannot read (NOT_FOUND)' },
  )
  listeners(@CurrentUserId() userId: string, @Param('voiceId', ParseIdPipe) voiceId: string) {
    return this.listening.listeners(userId, voiceId);
  }
}
