/**
 * One source of wire types: the server's enums, const lists and views must equal src/protocol,
 * which the SDK build inlines. The type checks fail `npm run lint` (strict typecheck of test/);
 * the runtime checks fail `npm test`.
 */
import { CHANNEL_KINDS, type ChannelKind } from '../src/channels/channel.entity';
import type { ChannelListItem, ChannelView, TopicView } from '../src/channels/channel.view';
import { ErrorCode, HTTP_STATUS_OF } from '../src/common/error-code';
import { EVENT_TYPES, type ChannelEventType } from '../src/messages/channel-event.entity';
import { MESSAGE_KINDS, type MessageKind } from '../src/messages/message.entity';
import type { EventEnvelope as ServerEnvelope, MessageView, ReactionView, VoiceView } from '../src/messages/message.view';
import type { EffectiveStatus } from '../src/presence/presence.service';
import { ERROR_CODES, ERROR_HTTP_STATUS } from '../src/protocol/error-codes';
import type * as Wire from '../src/protocol/wire';
import { PRESENCE_STATUSES } from '../src/realtime/dto/realtime.dto';
import { WORKSPACE_ROLES, type WorkspaceRole } from '../src/workspaces/workspace-member.entity';
import type { MemberView, WorkspaceView } from '../src/workspaces/workspace.view';
import type * as Sdk from '../client/src/types';

/** Compiles only when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equal<A, B>): Equal<A, B> => proof;

// Server names ↔ protocol (a drift here is a compile error in `npm run lint`).
same<`${ErrorCode}`, Wire.ErrorCode>(true);
same<MessageView, Wire.Message>(true);
same<VoiceView, Wire.Voice>(true);
same<ReactionView, Wire.Reaction>(true);
same<ChannelView, Wire.Channel>(true);
same<ChannelListItem, Wire.ChannelListItem>(true);
same<TopicView, Wire.Topic>(true);
same<WorkspaceView, Wire.Workspace>(true);
same<MemberView, Wire.Member>(true);
same<WorkspaceRole, Wire.Role>(true);
same<ChannelKind, Wire.ChannelKind>(true);
same<MessageKind, Wire.MessageKind>(true);
same<EffectiveStatus, Wire.PresenceState>(true);
same<ChannelEventType, Wire.EventType>(true);
same<ServerEnvelope['type'], Wire.EventEnvelope['type']>(true);
// SDK names ↔ protocol (the SDK re-exports, so this pins that it keeps doing so).
same<Sdk.Message, Wire.Message>(true);
same<Sdk.ReadyPayload, Wire.ReadyPayload>(true);
same<Sdk.EventEnvelope, Wire.EventEnvelope>(true);
same<Sdk.RequestMap, Wire.RequestMap>(true);

describe('wire types have one source (src/protocol)', () => {
  it("the server's ErrorCode enum and HTTP statuses equal the protocol's list", () => {
    expect(Object.values(ErrorCode).sort()).toEqual([...ERROR_CODES].sort());
    expect(HTTP_STATUS_OF).toEqual(ERROR_HTTP_STATUS);
  });

  it("the server's const lists equal the protocol's unions", () => {
    // Each record must name every member of the protocol union, and nothing else, to compile.
    const roles: Record<Wire.Role, true> = { owner: true, admin: true, member: true, guest: true };
    const kinds: Record<Wire.ChannelKind, true> = { public: true, private: true, direct: true };
    const messageKinds: Record<Wire.MessageKind, true> = { text: true, voice: true, system: true };
    const presence: Record<Wire.PresenceStatus, true> = { online: true, away: true, dnd: true };
    const events: Record<Wire.EventType, true> = {
      'message.created': true,
      'message.updated': true,
      'message.deleted': true,
      'member.joined': true,
      'member.left': true,
      'topic.created': true,
      'channel.updated': true,
    };
    expect([...WORKSPACE_ROLES].sort()).toEqual(Object.keys(roles).sort());
    expect([...CHANNEL_KINDS].sort()).toEqual(Object.keys(kinds).sort());
    expect([...MESSAGE_KINDS].sort()).toEqual(Object.keys(messageKinds).sort());
    expect([...PRESENCE_STATUSES].sort()).toEqual(Object.keys(presence).sort());
    expect([...EVENT_TYPES].sort()).toEqual(Object.keys(events).sort());
  });
});
