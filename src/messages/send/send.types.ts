import type { EntityManager } from 'typeorm';
import type { MessageRow } from '../message.rows';
import type { MessageView } from '../message.view';

export interface SendInput {
  channelId: string;
  clientMsgId: string;
  body: string;
  topicId?: string | null;
  replyToId?: string | null;
  kind?: 'text' | 'voice' | 'system';
  /** Runs in the message's own transaction when it is created (not on a retry), e.g. to add its voice clip. */
  onCreated?: (manager: EntityManager, message: MessageRow) => Promise<void>;
}

export interface SendResult {
  message: MessageView;
  /** False when the clientMsgId was already used by this author in this channel. */
  created: boolean;
}

/** A send waiting for its write: authorized, references checked. */
export interface PendingSend {
  authorId: string;
  workspaceId: string;
  input: SendInput;
}

/** The idempotency key of a send: (channel, author, clientMsgId). */
export const sendKey = (channelId: string, authorId: string, clientMsgId: string) =>
  `${channelId}\u0000${authorId}\u0000${clientMsgId}`;
