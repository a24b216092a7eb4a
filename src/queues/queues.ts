/** Every BullMQ queue, its job names and payloads, in one place (API producers and worker processors share it). */
export const QUEUES = {
  voice: 'voice',
  push: 'push',
  webhooks: 'webhooks',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** `webhooks` queue: one job per delivery; the job id is the delivery id, so a repeat enqueue collapses. */
export const WEBHOOK_DELIVERY_JOB = 'deliver';
export interface WebhookDeliveryJob {
  deliveryId: string;
}
/** Custom backoff type, computed by the worker's strategy (doubling from `backoff.delay`, jitter, 1 h cap). */
export const WEBHOOK_BACKOFF_TYPE = 'pigeon-exponential';

/** `voice` queue: one job per voice clip; the job id is the voice id. */
export const VOICE_TRANSCODE_JOB = 'transcode';
export interface VoiceTranscodeJob {
  voiceId: string;
}
/** The `voice` queue's job options, shared by uploads and live recordings (job id = voice id). */
export const TRANSCODE_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: 1000,
  removeOnFail: 5000,
} as const;

/**
 * `push` queue: one job per `message.created` event; the worker resolves the recipients. The job id is
 * `<channelId>.<seq>` (BullMQ refuses `:` in custom ids), so a repeat enqueue collapses.
 */
export const PUSH_MESSAGE_JOB = 'message';
export interface PushMessageJob {
  workspaceId: string;
  channelId: string;
  seq: number;
  messageId: string;
}
