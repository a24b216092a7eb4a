import { Initial1764300000000 } from './migrations/1764300000000-initial';
import { VoiceWebhooks1795833211992 } from './migrations/1795833211992-voice-webhooks';

/** Every migration, in order. Never edit one once committed; add a new one. */
export const MIGRATIONS = [Initial1764300000000, VoiceWebhooks1795833211992];
