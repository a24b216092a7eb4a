import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AccessService, isAdminRole } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import type { WorkspaceRole } from '../workspaces/workspace-member.entity';
import type { ChannelEventType } from './channel-event.entity';
import { ChannelEventRepository } from './channel-event.repository';
import { ChannelLog } from './channel-log';
import { MessageRepository } from './message.repository';
import type { MessageRow } from './message.rows';
import type { MessageView } from './message.view';
import { eventSnapshot, MessageViews } from './message-views';
import { ReactionRepository } from './reaction.repository';

/** Applies a change to a locked message; answers the event it makes, or null for no change. */
export type MessageMutation = (
  manager: EntityManager,
  row: MessageRow,
  role: WorkspaceRole | 'system',
) => Promise<ChannelEventType | null>;

/**
 * Edits, deletes and reactions. Each is a write like a send: every attempt counts against the
 * user's write limit (socket and REST alike), before any work is done.
 */
@Injectable()
export class MessageCommands {
  private readonly maxReactions: number;

  constructor(
    private readonly log: ChannelLog,
    private readonly messages: MessageRepository,
    private readonly events: ChannelEventRepository,
    private readonly reactions: ReactionRepository,
    private readonly views: MessageViews,
    private readonly access: AccessService,
    private readonly rateLimit: RateLimitService,
    config: AppConfigService,
  ) {
    this.maxReactions = config.get('REACTIONS_PER_MESSAGE_MAX');
  }

  async edit(userId: string, messageId: string, body: string, workspaceId?: string): Promise<MessageView> {
    await this.rateLimit.consumeWrite(userId);
    return this.changeMessage(userId, messageId, workspaceId, async (manager, row) => {
      if (row.author_id !== userId) throw AppException.forbidden('Only the author may edit a message');
      if (row.deleted_at) throw AppException.notFound('Message');
      if (row.kind !== 'text') throw AppException.validation('Only text messages can be edited');
      await this.messages.updateBody(manager, messageId, body);
      // The earlier text is gone from the log too: older events of the message now carry the new one.
      await this.events.redactEarlier(manager, row, { body });
      return 'message.updated';
    });
  }

  async delete(userId: string, messageId: string, workspaceId?: string): Promise<{ id: string }> {
    await this.rateLimit.consumeWrite(userId);
    await this.changeMessage(userId, messageId, workspaceId, async (manager, row, role) => {
      if (row.author_id !== userId && (role === 'system' || !isAdminRole(role))) {
        throw AppException.forbidden('Only the author or an admin may delete');
      }
      if (row.deleted_at) return null; // deleting twice is a no-op
      await this.messages.markDeleted(manager, messageId);
      await this.reactions.removeAll(manager, messageId);
      // Deletion really deletes: no earlier event, webhook payload or voice field keeps what was said.
      await this.events.redactEarlier(manager, row, { body: '', deleted: true });
      return 'message.deleted';
    });
    return { id: messageId };
  }

  async addReaction(userId: string, messageId: string, emoji: string, workspaceId?: string): Promise<void> {
    await this.rateLimit.consumeWrite(userId);
    await this.changeMessage(userId, messageId, workspaceId, async (manager, row) => {
      if (row.deleted_at) throw AppException.notFound('Message');
      // The channel head is locked, so counting here cannot race another reaction on this message.
      const { distinct, present } = await this.reactions.emojiCount(manager, messageId, emoji);
      if (!present && distinct >= this.maxReactions) {
        throw new AppException(ErrorCode.LIMIT_REACHED, `A message carries at most ${this.maxReactions} different reactions`);
      }
      return (await this.reactions.add(manager, messageId, emoji, userId)) ? 'message.updated' : null;
    });
  }

  async removeReaction(userId: string, messageId: string, emoji: string, workspaceId?: string): Promise<void> {
    await this.rateLimit.consumeWrite(userId);
    await this.changeMessage(userId, messageId, workspaceId, async (manager) =>
      (await this.reactions.remove(manager, messageId, emoji, userId)) ? 'message.updated' : null,
    );
  }

  /**
   * Locks the message's channel head, applies `mutate`, and when it reports a change appends one
   * event carrying the message as it now is. `userId` null is the system (the worker's voice
   * status changes): no membership check.
   */
  async changeMessage(
    userId: string | null,
    messageId: string,
    workspaceId: string | undefined,
    mutate: MessageMutation,
  ): Promise<MessageView> {
    const found = await this.messages.findById(messageId);
    if (!found) throw AppException.notFound('Message');
    let role: WorkspaceRole | 'system' = 'system';
    if (userId !== null) {
      const access = await this.access.requireChannelMember(found.channel_id, userId, workspaceId).catch(() => {
        throw AppException.notFound('Message');
      });
      role = access.role;
    }
    return this.log.transaction(async (manager) => {
      const head = await this.log.lockOne(manager, found.channel_id);
      const type = await mutate(manager, (await this.messages.findById(messageId, manager))!, role);
      const [current] = await this.views.decorate([(await this.messages.findById(messageId, manager))!], manager);
      if (type) head.append(type, eventSnapshot(current));
      return current;
    });
  }
}
