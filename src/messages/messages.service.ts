import { Injectable } from '@nestjs/common';
import type { MessageRow } from './message.rows';
import type { MessageView } from './message.view';
import { MessageCommands, MessageMutation } from './message-commands.service';
import { MessageQueries } from './message-queries.service';
import { MessageViews } from './message-views';
import { SendPipeline } from './send/send-pipeline';
import type { SendInput, SendResult } from './send/send.types';

export type { SendInput, SendResult } from './send/send.types';
export { fairShares } from './message-queries.service';

/**
 * What other features (voice, search) use of messages, in one narrow face; the realtime gateway
 * and the REST controller use the send pipeline, commands and queries directly.
 */
@Injectable()
export class MessagesService {
  constructor(
    private readonly pipeline: SendPipeline,
    private readonly commands: MessageCommands,
    private readonly queries: MessageQueries,
    private readonly views: MessageViews,
  ) {}

  send(authorId: string, input: SendInput, workspaceId?: string): Promise<SendResult> {
    return this.pipeline.send(authorId, input, workspaceId);
  }

  /** A change of a message made by another feature (voice status), as one `message.updated`. */
  changeMessage(userId: string | null, messageId: string, workspaceId: string | undefined, mutate: MessageMutation): Promise<MessageView> {
    return this.commands.changeMessage(userId, messageId, workspaceId, mutate);
  }

  get(userId: string, messageId: string, workspaceId?: string): Promise<MessageView> {
    return this.queries.get(userId, messageId, workspaceId);
  }

  decorate(rows: MessageRow[]): Promise<MessageView[]> {
    return this.views.decorate(rows);
  }
}
