import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { FanoutService } from '../fanout/fanout.service';
import { MessagesService } from '../messages/messages.service';
import { VoiceFiles } from './voice-file.service';
import { VoiceViews } from './voice-views';

/**
 * The only place voice binds itself to messages at run time (writepath replaces both with injection):
 * - MessagesService.setDecorator: message views get their `voice` object
 * - FanoutService.onCommitted: a committed `message.deleted` of a voice message removes its files
 */
@Injectable()
export class VoiceMessageHooks implements OnModuleInit {
  private readonly logger = new Logger(VoiceMessageHooks.name);

  constructor(
    private readonly messages: MessagesService,
    private readonly fanout: FanoutService,
    private readonly views: VoiceViews,
    private readonly files: VoiceFiles,
  ) {}

  onModuleInit(): void {
    this.messages.setDecorator({ voiceFor: (ids, manager) => this.views.voiceFor(ids, manager) });
    this.fanout.onCommitted((events) => {
      const deleted = events
        .filter((e) => e.type === 'message.deleted' && (e.data as { kind?: string }).kind === 'voice')
        .map((e) => (e.data as { id: string }).id);
      if (deleted.length > 0) {
        this.files.purge(deleted).catch((error: unknown) => this.logger.warn(`Voice file removal failed: ${String(error)}`));
      }
    });
  }
}
