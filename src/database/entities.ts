import { RefreshTokenFamily } from '../auth/refresh-token-family.entity';
import { RefreshToken } from '../auth/refresh-token.entity';
import { ChannelMember } from '../channels/channel-member.entity';
import { Channel } from '../channels/channel.entity';
import { Topic } from '../channels/topic.entity';
import { ChannelEvent } from '../messages/channel-event.entity';
import { ListeningProgress } from '../listening/listening-progress.entity';
import { Message } from '../messages/message.entity';
import { Reaction } from '../messages/reaction.entity';
import { PushSubscription } from '../notifications/push-subscription.entity';
import { User } from '../users/user.entity';
import { VoiceClip } from '../voice/voice-clip.entity';
import { VoiceListen } from '../voice/voice-listen.entity';
import { WebhookDelivery } from '../webhooks/webhook-delivery.entity';
import { Webhook } from '../webhooks/webhook.entity';
import { Invite } from '../workspaces/invite.entity';
import { WorkspaceMember } from '../workspaces/workspace-member.entity';
import { Workspace } from '../workspaces/workspace.entity';
import { WorkspaceRemoval } from '../workspaces/workspace-removal.entity';

/** Listed explicitly so the CLI, the API and the worker see the same schema. */
export const ENTITIES = [
  User,
  RefreshTokenFamily,
  RefreshToken,
  Workspace,
  WorkspaceMember,
  WorkspaceRemoval,
  Invite,
  Channel,
  ChannelMember,
  Topic,
  Message,
  Reaction,
  ChannelEvent,
  VoiceClip,
  VoiceListen,
  ListeningProgress,
  Webhook,
  WebhookDelivery,
  PushSubscription,
];
