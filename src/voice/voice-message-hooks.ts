import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventsCommittedHandler, OnEventsCommitted } from '../fanout/events-committed';
import type { EventEnvelope, VoiceView } from '../messages/message.view';
import { VoiceViewProvider, VoiceViewSource } from '../messages/message-views';
import { VoiceFiles } from './voice-file.service';
import { VoiceViews } from './voice-views';

/**
 * Where voice meets messages, found by DI discovery (nothing registered at run time):
 * - as the VoiceViewSource, message views get their `voice` object;
 * - as an events-committed handler, a committed `message.deleted` of a voice message removes its files.
 */
@Injectable()
@VoiceViewProvider()
@EventsCommittedHandler()
export class VoiceMessageHooks implements VoiceViewSource, OnEventsCommitted {
  private readonly logger = new Logger(VoiceMessageHooks.name);

  constructor(
    private readonly views: VoiceViews,
    private readonly files: VoiceFiles,
  ) {}

  voiceFor(messageIds: string[], manager?: EntityManager): Promise<Map<string, VoiceView>> {
    return this.views.voiceFor(messageIds, manager);
  }

  onEventsCommitted(events: readonly EventEnvelope[]): void {
    const deleted = events
      .filter((e) => e.type === 'message.deleted' && (e.data as { kind?: string }).kind === 'voice')
      .map((e) => (e.data as { id: string }).id);
    if (deleted.length > 0) {
      this.files.purge(deleted).catch((error: unknown) => this.logger.warn(`Voice file removal failed: ${String(error)}`));
    }
  }
}
