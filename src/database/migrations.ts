import { Initial1764300000000 } from './migrations/1764300000000-initial';
import { VoiceWebhooks1795833211992 } from './migrations/1795833211992-voice-webhooks';
import { PushSubscriptions1795834099165 } from './migrations/1795834099165-push-subscriptions';
import { LiveVoice1795834159320 } from './migrations/1795834159320-live-voice';
import { RedactionIndexes1796000002000 } from './migrations/1796000002000-redaction-indexes';
import { InviteRevocation1796000004000 } from './migrations/1796000004000-invite-revocation';
import { Search1796000008000 } from './migrations/1796000008000-search';
import { Outbox1797000200000 } from './migrations/1797000200000-outbox';
import { FloorListening1797000600000 } from './migrations/1797000600000-floor-listening';
import { RowLevelSecurity1797000400000 } from './migrations/1797000400000-row-level-security';
import { SearchUnderRls1797000400001 } from './migrations/1797000400001-search-under-rls';
import { RlsWave3Tables1797000900000 } from './migrations/1797000900000-rls-wave3-tables';

/** Every migration, in order. Never edit one once committed; add a new one. */
export const MIGRATIONS = [
  Initial1764300000000,
  VoiceWebhooks1795833211992,
  PushSubscriptions1795834099165,
  LiveVoice1795834159320,
  RedactionIndexes1796000002000,
  InviteRevocation1796000004000,
  Search1796000008000,
  Outbox1797000200000,
  RowLevelSecurity1797000400000,
  SearchUnderRls1797000400001,
  FloorListening1797000600000,
  RlsWave3Tables1797000900000,
];
