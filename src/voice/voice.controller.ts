import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CurrentUserId } from '../auth/current-user.decorator';
import { Public } from '../auth/public.decorator';
import { TokenService } from '../auth/token.service';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { UploadVoiceDto, VoiceAudioQueryDto, VoiceDto } from './dto/voice.dto';
import { parseRange } from './http-range';
import { LiveVoiceService } from './live-voice.service';
import { VoiceService } from './voice.service';

@ApiTags('voice')
@ApiBearerAuth()
@ApiResponse({
  status: 404,
  description: 'Unknown voice message or channel, or one the caller may not see (NOT_FOUND)',
})
@Controller()
export class VoiceController {
  constructor(
    private readonly voice: VoiceService,
    private readonly live: LiveVoiceService,
    private readonly tokens: TokenService,
  ) {}

  @Post('workspaces/:wid/channels/:cid/voice')
  @HttpCode(202)
  @UseInterceptors(FileInterceptor('file'))
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file', 'clientMsgId'],
      properties: {
        file: { type: 'string', format: 'binary' },
        clientMsgId: { type: 'string' },
        topicId: { type: 'string', format: 'uuid' },
      },
    },
  })
  @ApiOperation({ summary: 'Upload a recorded voice message; it is transcoded in the background' })
  @ApiResponse({ status: 202, description: 'The message, with voice.status = processing' })
  @ApiResponse({ status: 413, description: 'Larger than VOICE_MAX_BYTES (PAYLOAD_TOO_LARGE)' })
  @ApiResponse({ status: 415, description: 'Not WebM, Ogg, MP4/M4A, WAV or MP3 (code VALIDATION)' })
  upload(
    @CurrentUserId() userId: string,
    @Param('wid', ParseIdPipe) wid: string,
    @Param('cid', ParseIdPipe) cid: string,
    @Body() dto: UploadVoiceDto,
    @UploadedFile() file: { buffer: Buffer; size: number } | undefined,
  ) {
    return this.voice.upload(userId, wid, cid, dto, file);
  }

  @Get('voice/:voiceId')
  @ApiOperation({ summary: 'A voice message: status, duration, waveform, signed audio URL' })
  @ApiResponse({ status: 200, type: VoiceDto })
  get(@CurrentUserId() userId: string, @Param('voiceId', ParseIdPipe) voiceId: string) {
    return this.voice.get(userId, voiceId);
  }

  /** Public so `<audio src>` works with the signed URL alone; otherwise the bearer token is checked here. */
  @Public()
  @Get('voice/:voiceId/audio')
  @ApiOperation({ summary: 'The audio, with HTTP Range support; bearer auth or the signed voice.url' })
  @ApiResponse({
    status: 200,
    description: 'The whole audio; while recording, the live recording (chunked) until it ends',
  })
  @ApiResponse({ status: 206, description: 'The requested byte range' })
  @ApiResponse({ status: 416, description: 'Range not satisfiable' })
  async audio(
    @Param('voiceId', ParseIdPipe) voiceId: string,
    @Query() query: VoiceAudioQueryDto,
    @Headers('authorization') authorization: string | undefined,
    @Headers('range') rangeHeader: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    const bearer = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    const caller = bearer
      ? { userId: this.tokens.verifyAccess(bearer).userId }
      : { u: query.u, expires: query.expires, sig: query.sig };
    const source = await this.voice.audio(voiceId, query.format, caller);
    if ('live' in source) {
      // Still recording: no length yet, so chunked transfer of every chunk so far and each new one until
      // the end; a Range header is ignored (the whole recording is served).
      response.status(200);
      response.setHeader('Content-Type', source.contentType);
      response.setHeader('Cache-Control', 'no-store');
      response.flushHeaders();
      await pipeline(Readable.from(this.live.follow(source.voiceId)), response).catch(() => response.destroy());
      return;
    }
    const range = parseRange(rangeHeader, source.size);
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('Content-Type', source.contentType);
    response.setHeader('Cache-Control', 'private, max-age=3600');
    if (range === 'unsatisfiable') {
      response.setHeader('Content-Range', `bytes */${source.size}`);
      response.status(416).end();
      return;
    }
    if (range) {
      response.status(206);
      response.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${source.size}`);
      response.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      response.status(200);
      response.setHeader('Content-Length', String(source.size));
    }
    await pipeline(source.read(range ?? undefined), response).catch(() => response.destroy());
  }
}
