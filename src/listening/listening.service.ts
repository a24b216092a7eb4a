import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AccessService, isAdminRole } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import type { VoiceListener } from '../protocol/wire';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.service';
import { ListeningRepository } from './listening.repository';
import { runAsSystem } from '../tenancy/tenant-context';

/** One listener's progress on one message, on this node, between writes. */
interface Pending {
  messageId: string;
  userId: string;
  /** What Postgres holds, as of the last write. */
  stored: number;
  /** The furthest position reported since, not yet written. */
  unsaved: number | null;
  lastWriteAt: number;
  timer: NodeJS.Timeout | null;
}

/** `voice:listened` as the webhook event `voice.listened` (not a channel event: no seq). */
export interface VoiceListenedWebhook {
  type: 'voice.listened';
  workspaceId: string;
  channelId: string;
  messageId: string;
  userId: string;
  at: string;
}

/**
 * Listening progress (`voice:progress`), who listened how far, and unheard voice messages. Progress is
 * written at most once per PROGRESS_WRITE_INTERVAL_MS per listener and message on each node (the first
 * report at once, the furthest of the rest at the end of the interval), and never moves back.
 */
@Injectable()
export class ListeningService implements OnModuleDestroy {
  private readonly logger = new Logger(ListeningService.name);
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly repository: ListeningRepository,
    private readonly access: AccessService,
    private readonly webhooks: WebhookDispatcher,
    private readonly config: AppConfigService,
  ) {}

  async onModuleDestroy(): Promise<void> {
    // Shutdown flushes every listener's last position at once: a named scope, not a caller's.
    await Promise.allSettled([...this.pending.values()].map((entry) => runAsSystem('listening.flush', () => this.flush(entry))));
    this.pending.clear();
  }

  async progress(userId: string, messageId: string, positionMs: number): Promise<{ positionMs: number }> {
    const facts = await this.repository.byMessage(messageId);
    if (!facts || facts.deleted) throw AppException.notFound('Voice message');
    await this.access.requireChannelMember(facts.channelId, userId).catch(() => {
      throw AppException.notFound('Voice message');
    });
    const key = `${messageId}:${userId}`;
    const interval = this.config.get('PROGRESS_WRITE_INTERVAL_MS');
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { messageId, userId, stored: 0, unsaved: positionMs, lastWriteAt: 0, timer: null };
      this.pending.set(key, entry);
      this.forgetLater(key, interval);
    } else {
      entry.unsaved = Math.max(entry.unsaved ?? 0, positionMs);
    }
    if (Date.now() - entry.lastWriteAt >= interval) {
      await this.flush(entry);
      return { positionMs: entry.stored };
    }
    if (!entry.timer) {
      const later = entry;
      entry.timer = setTimeout(
        () => void this.flush(later).catch((error: unknown) => this.logger.warn(`Saving listening progress failed: ${String(error)}`)),
        Math.max(0, entry.lastWriteAt + interval - Date.now()),
      );
      entry.timer.unref();
    }
    return { positionMs: Math.max(entry.stored, entry.unsaved ?? 0) };
  }

  /** GET /api/voice/:voiceId/listeners: the author and workspace owners/admins. */
  async listeners(userId: string, voiceId: string): Promise<VoiceListener[]> {
    const facts = await this.repository.byVoice(voiceId);
    if (!facts || facts.deleted || !(await this.access.canReadChannel(facts.channelId, userId, facts.workspaceId))) {
      throw AppException.notFound('Voice message');
    }
    const role = await this.access.workspaceRole(facts.workspaceId, userId);
    if (facts.authorId !== userId && !(role && isAdminRole(role))) {
      throw AppException.forbidden('Only the author and workspace owners/admins see who listened');
    }
    // What this node has not written yet is written first, so the author sees it.
    await Promise.all(
      [...this.pending.values()]
        .filter((e) => e.messageId === facts.messageId && e.unsaved !== null)
        .map((e) => this.flush(e).catch(() => undefined)),
    );
    return this.repository.listeners(facts.messageId, facts.durationMs);
  }

  /** The first `voice:listened` of a user for a message (called by LiveVoiceHandlers.listened). */
  finished(event: Omit<VoiceListenedWebhook, 'type' | 'at'>): void {
    const payload: VoiceListenedWebhook = { type: 'voice.listened', ...event, at: new Date().toISOString() };
    this.webhooks.dispatch([payload]).catch((error: unknown) => this.logger.error({ err: error }, 'voice.listened webhook enqueue failed'));
  }

  private async flush(entry: Pending): Promise<void> {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    if (entry.unsaved === null) return;
    const position = entry.unsaved;
    entry.unsaved = null;
    // Taken before the write, so reports arriving meanwhile wait for the next interval.
    entry.lastWriteAt = Date.now();
    try {
      entry.stored = Math.max(entry.stored, await this.repository.saveProgress(entry.messageId, entry.userId, position));
    } catch (error) {
      entry.unsaved = Math.max(entry.unsaved ?? 0, position);
      entry.lastWriteAt = 0;
      throw error;
    }
  }

  /** Drops an idle entry after its interval, so the map holds only listeners playing now. */
  private forgetLater(key: string, interval: number): void {
    const timer = setTimeout(() => {
      const entry = this.pending.get(key);
      if (!entry) return;
      if (entry.unsaved !== null || entry.timer || Date.now() - entry.lastWriteAt < interval) return this.forgetLater(key, interval);
      this.pending.delete(key);
    }, interval + 50);
    timer.unref();
  }
}
