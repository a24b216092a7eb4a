/**
 * Wire shapes of the Pigeon protocol. They are declared once, in the server's `src/protocol/`,
 * and the package build inlines them, so the SDK and the server cannot drift apart.
 */
import type { ErrorCode, WireError } from '../../src/protocol/wire';

export type * from '../../src/protocol/wire';

/**
 * Codes the SDK itself produces, for failures that never reached (or never came back from) the
 * server: an ack that did not arrive in time, a socket that dropped mid-request, a client that was
 * closed, a retry budget that ran out, a connect that failed below Socket.IO's middleware, or a
 * REST call that got no answer (NETWORK) or an answer that was not the contract's (BAD_RESPONSE).
 */
export type ClientErrorCode =
  | 'TIMEOUT'
  | 'DISCONNECTED'
  | 'CLIENT_CLOSED'
  | 'DEADLINE_EXCEEDED'
  | 'CONNECT_FAILED'
  | 'NETWORK'
  | 'BAD_RESPONSE'
  | 'ABORTED';

/** Any code a PigeonError may carry; unknown server codes pass through as strings. */
export type PigeonErrorCode = ErrorCode | ClientErrorCode | (string & {});

/** An error as the server sends it (socket ack `error`, REST body). Kept under its v1 name. */
export type ErrorBody = WireError;

export interface SendMessageInput {
  channelId: string;
  body: string;
  topicId?: string;
  replyToId?: string;
  /** 1..64 of [A-Za-z0-9_.:-]; generated when missing. Reuse it to retry safely. */
  clientMsgId?: string;
}
