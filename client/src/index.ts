export { PigeonClient } from './pigeon-client';
export type { PigeonClientEvents, PigeonClientOptions, RequestOptions, SendOptions } from './pigeon-client';
export { ChannelSequencer, DEFAULT_GAP_WINDOW_MS } from './channel-sequencer';
export type { ChannelSequencerOptions, Gap, PushResult, PushStatus, SequencedEvent } from './channel-sequencer';
export { backoffDelay, DEFAULT_BACKOFF, FINAL_ERROR_CODES, isFinalErrorCode, retryDelay } from './backoff';
export type { BackoffOptions } from './backoff';
export { PigeonError, connectErrorToPigeonError } from './errors';
export { TypedEmitter } from './typed-emitter';
export type * from './types';
