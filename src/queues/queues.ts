/** Every BullMQ queue, its job names and payloads, in one place (API producers and worker processors share it). */
export const QUEUES = {
  voice: 'voice',
  push: 'push',
  webhooks: 'webhooks',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
