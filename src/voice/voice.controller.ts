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
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CurrentUserId } from '../auth/current-user.decorator';
import { Public } from '../auth/public.decorator';
import { TokenService } from '../auth/token.service';
import { ApiErrorResponses, ApiIdParams } from '../common/api-docs';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { MessageDto } from '../messages/dto/message.dto';
import { UploadVoiceDto, VoiceAudioQueryDto, VoiceDto } from './dto/voice.dto';
import { parseRange } from './http-range';
import { LiveFollowStream } from './live-follow.stream';
import { VoiceService } from './voice.service';
import { isUserId, runInContext, userContext } from '../tenancy/tenant-context';

@ApiTags('voice')
@ApiBearerAuth()
@Controller()
export class VoiceController {
  constructor(
    private readonly voice: VoiceService,
    private readonly live: LiveFollowStream,
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
        file: { type: 'string', format: 'binary', description: 'The audio: WebM, Ogg, MP4/M4A, WAV or MP3' },
        clientMsgId: {
          type: 'string',
          pattern: '^[A-Za-z0-9_.:-]{1,64}$',
          description: 'Idempotency key; a retry answers the first message',
          example: 'v-1733145600000-1',
        },
        topicId: { type: 'string', format: 'uuid', description: 'Topic of this channel to post in' },
      },
    },
  })
  @ApiOperation({
    summary: 'Upload a recorded voice message',
    description:
      'Stores the original and answers at once; the worker transcodes it to Opus and AAC and measures duration and ' +
      'waveform, then `message.updated` says ready or failed. The type is sniffed from the bytes. Idempotent on ' +
      'clientMsgId like text messages; counts against the per-user send rate limit.',
  })
  @ApiIdParams('wid', 'cid')
  @ApiResponse({ status: 202, type: MessageDto, description: 'The message, with voice.status = processing' })
  @ApiErrorResponses(
    { 400: 'Missing file or bad fields (VALIDATION)' },
    401,
    { 404: 'Unknown channel or topic, or not a member (NOT_FOUND)' },
    { 409: 'clientMsgId already used for a text message (CONFLICT)' },
    { 413: 'Larger than VOICE_MAX_BYTES (PAYLOAD_TOO_LARGE)' },
    { 415: 'Not WebM, Ogg, MP4/M4A, WAV or MP3 (code VALIDATION)' },
    429,
  )
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
  @ApiOperation({
    summary: 'A voice message',
    description:
      'Status, duration, waveform and a fresh signed audio URL (event data keeps the URL it was sent with, valid ' +
      '1 h), plus its message and channel and why it failed.',
  })
  @ApiIdParams('voiceId')
  @ApiResponse({ status: 200, type: VoiceDto, description: 'The voice message' })
  @ApiErrorResponses(401, { 404: 'Unknown voice message, or one the caller may not see (NOT_FOUND)' })
  get(@CurrentUserId() userId: string, @Param('voiceId', ParseIdPipe) voiceId: string) {
    return this.voice.get(userId, voiceId);
  }

  /** Public so `<audio src>` works with the signed URL alone; otherwise the bearer token is checked here. */
  @Public()
  @Get('voice/:voiceId/audio')
  @ApiOperation({
    summary: 'The audio of a voice message',
    description:
      'Bearer auth, or the signed `voice.url` (expires and sig) without a header, for `<audio src>`. HTTP Range ' +
      'support. `opus` (Ogg) by default, `aac` as audio/mp4; the original bytes until ready. While recording, ' +
      'streams every chunk so far and follows the recording until it ends (chunked, no Range).',
  })
  @ApiIdParams('voiceId')
  @ApiProduces('audio/ogg', 'audio/mp4', 'audio/webm', 'audio/wav', 'audio/mpeg')
  @ApiResponse({
    status: 200,
    description: 'The whole audio; while recording, the live recording (chunked) until it ends',
    schema: { type: 'string', format: 'binary' },
  })
  @ApiResponse({ status: 206, description: 'The requested byte range', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 416, description: 'Range not satisfiable (no body; Content-Range: bytes */size)' })
  @ApiErrorResponses(
    400,
    { 401: 'Invalid bearer token, or an invalid or expired signed URL (UNAUTHORIZED)' },
    { 404: 'Unknown voice message, one the caller may not see, or no audio yet (NOT_FOUND)' },
  )
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
    // A public route: it runs as the bearer's user or the signed URL's member (checked before any query).
    const member = 'userId' in caller ? caller.userId : caller.u;
    const tenant = isUserId(member) ? userContext(member) : null;
    await runInContext(tenant, () => this.serveAudio(voiceId, query, caller, rangeHeader, response));
  }

  private async serveAudio(
    voiceId: string,
    query: VoiceAudioQueryDto,
    caller: { userId: string } | { u?: string; expires?: string; sig?: string },
    rangeHeader: string | undefined,
    response: Response,
  ): Promise<void> {
    const source = await this.voice.audio(voiceId, query.format, caller);
    if ('redirect' in source) {
      // The member check has passed; the bucket serves the bytes (and Range) under a short-lived URL.
      response.setHeader('Cache-Control', 'no-store');
      response.redirect(302, source.redirect);
      return;
    }
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
    // Opened before any header is set: a file gone meanwhile still gets a clean 404 error body.
    const body = range === 'unsatisfiable' ? null : await source.read(range ?? undefined);
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('Content-Type', source.contentType);
    response.setHeader('Cache-Control', 'private, max-age=3600');
    if (range === 'unsatisfiable' || !body) {
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
    await pipeline(body, response).catch(() => response.destroy());
  }
}
