import { EmptyAckDataDto } from '../realtime/asyncapi.models';
import type { ClientEventDoc, ServerEventDoc } from '../realtime/asyncapi';
import { HuddleChannelDto, HuddleMuteDto, HuddleSignalDto, HuddleSpeakingDto } from './dto/huddle.dto';
import { HuddleEventDto, HuddleJoinAckDto, HuddleSignalEventDto, HuddleStateDto } from './dto/huddle-events.dto';

const NOT_A_PARTICIPANT = 'A non-member of the channel, or a socket not in its huddle: NOT_FOUND.';

/** The huddle events of the `/rt` AsyncAPI document (src/realtime/asyncapi.ts lists them with the rest). */
export const HUDDLE_CLIENT_EVENTS: ClientEventDoc[] = [
  {
    event: 'huddle:join',
    summary: "Join the channel's huddle (WebRTC mesh)",
    description:
      'This socket becomes a participant (one huddle per socket: joining another leaves the first). Send an offer to ' +
      'every other participant listed. Past HUDDLE_MAX_PARTICIPANTS (8) sockets: LIMIT_REACHED. Joining again while in ' +
      'it answers the same huddle with fresh TURN credentials. Rate limited like huddle:signal. A non-member: NOT_FOUND.',
    payload: HuddleChannelDto,
    ack: HuddleJoinAckDto,
  },
  {
    event: 'huddle:leave',
    summary: 'Leave the huddle',
    description: `Disconnecting leaves too. ${NOT_A_PARTICIPANT}`,
    payload: HuddleChannelDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'huddle:signal',
    summary: 'Relay an offer, answer or ICE candidate to one participant',
    description: `Sender and target must both be in the channel's huddle. Rate limited per socket (RATE_LIMITED). ${NOT_A_PARTICIPANT}`,
    payload: HuddleSignalDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'huddle:mute',
    summary: 'Say whether this socket is muted',
    description: `A change emits \`huddle\`. Rate limited like huddle:signal. ${NOT_A_PARTICIPANT}`,
    payload: HuddleMuteDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'huddle:speaking',
    summary: 'Say whether this socket is speaking now',
    description: `From the client's voice activity detection; a change emits \`huddle\`. Rate limited like huddle:signal. ${NOT_A_PARTICIPANT}`,
    payload: HuddleSpeakingDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'huddle:get',
    summary: "The channel's huddle now",
    description: 'For a client that connects while a huddle runs (huddleId null: none). A non-member: NOT_FOUND.',
    payload: HuddleChannelDto,
    ack: HuddleStateDto,
  },
];

export const HUDDLE_SERVER_EVENTS: ServerEventDoc[] = [
  {
    event: 'huddle',
    summary: "A channel's huddle changed",
    description: 'To the channel room on every join, leave, mute or speaking change (participants [] once it ended).',
    payload: HuddleEventDto,
  },
  {
    event: 'huddle:signal',
    summary: 'An offer, answer or ICE candidate from another participant',
    description: 'To the addressed socket only, on whichever node holds it.',
    payload: HuddleSignalEventDto,
  },
];
