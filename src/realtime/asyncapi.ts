import type { Type } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { openapiSchemaToJsonSchema } from '@openapi-contrib/openapi-schema-to-json-schema';
import { ErrorCode } from '../common/error-code';
import { RT_NAMESPACE } from '../fanout/fanout.service';
import {
  EditMessageDto,
  EventDto,
  MessageDto,
  MessageIdDto,
  ReactionDto,
  SendMessageDto,
} from '../messages/dto/message.dto';
import { HUDDLE_CLIENT_EVENTS, HUDDLE_SERVER_EVENTS } from '../huddles/huddles.asyncapi';
import { FloorEventDto, FloorReleaseDto, FloorRequestDto, FloorRequestResultDto } from '../floor/dto/floor.dto';
import { VoiceProgressDto, VoiceProgressResultDto } from '../listening/dto/listening.dto';
import { VoiceChunkDto, VoiceEndDto, VoiceListenedDto, VoiceStartDto } from '../voice/dto/live-voice.dto';
import {
  AckErrorDto,
  AuthExpiringDto,
  ServerShutdownDto,
  AuthRefreshResultDto,
  DeletedMessageDto,
  EmptyAckDataDto,
  HandshakeErrorDto,
  LastReadSeqDto,
  PresenceEventDto,
  ReadEventDto,
  ReadyDto,
  SyncResultDto,
  TypingEventDto,
  VoiceChunkAckDto,
  VoiceChunkEventDto,
  VoiceListenedEventDto,
} from './asyncapi.models';
import { AuthRefreshDto, ChannelReadDto, PresenceSetDto, SyncDto, TypingDto } from './dto/realtime.dto';

/** A client-to-server event: the handler's DTO and what `{ok: true, data}` carries. */
export interface ClientEventDoc {
  event: string;
  summary: string;
  description: string;
  payload: Type<unknown>;
  ack: Type<unknown>;
}

/** A server-to-client event. */
export interface ServerEventDoc {
  event: string;
  summary: string;
  description: string;
  payload: Type<unknown>;
}

/*
 * The socket contract of docs/PROTOCOL.md, one entry per event. A new @SubscribeMessage handler or
 * emitted event goes here too (test/openapi.spec.ts fails on one that is missing).
 */
export const CLIENT_EVENTS: ClientEventDoc[] = [
  {
    event: 'message:send',
    summary: 'Send a text message',
    description:
      'Idempotent on (author, channel, clientMsgId): a retry acks the first message, never a second one. ' +
      'Counts against the send rate limit (RATE_LIMITED with retryAfterMs). Not a member: NOT_FOUND.',
    payload: SendMessageDto,
    ack: MessageDto,
  },
  {
    event: 'message:edit',
    summary: 'Edit your own text message',
    description: "Acks the message as edited; another author's message FORBIDDEN; only text messages can be edited.",
    payload: EditMessageDto,
    ack: MessageDto,
  },
  {
    event: 'message:delete',
    summary: 'Delete a message (author, or workspace owner/admin)',
    description:
      'The message keeps its id and seq with body "" and deletedAt set; deleting it again acks without an event.',
    payload: MessageIdDto,
    ack: DeletedMessageDto,
  },
  {
    event: 'reaction:add',
    summary: 'Add your reaction',
    description: 'A reaction the user already gave acks without a new event.',
    payload: ReactionDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'reaction:remove',
    summary: 'Remove your reaction',
    description: 'Removing a reaction the user did not give acks without an event.',
    payload: ReactionDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'sync',
    summary: 'Catch up on channels from a seq',
    description:
      'Every event after afterSeq, in order, per channel (at most SYNC_PAGE_LIMIT each; hasMore says to go on). ' +
      'A channel the caller is not a member of answers NOT_FOUND.',
    payload: SyncDto,
    ack: SyncResultDto,
  },
  {
    event: 'channel:read',
    summary: 'Move your read mark',
    description: 'Never moves backwards nor past the head; the room gets `read`.',
    payload: ChannelReadDto,
    ack: LastReadSeqDto,
  },
  {
    event: 'typing',
    summary: 'Say you are typing',
    description:
      'Relayed as `typing` at most once per TYPING_INTERVAL_MS per user and channel; extras are dropped silently.',
    payload: TypingDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'presence:set',
    summary: 'Set your presence status',
    description: 'Workspaces get the change in their next `presence` batch.',
    payload: PresenceSetDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'voice:start',
    summary: 'Start a live voice recording',
    description:
      'Creates the voice message with voice.status = recording (idempotent like message:send; counts against the ' +
      'send rate limit). A clientMsgId already used for a text message is CONFLICT.',
    payload: VoiceStartDto,
    ack: MessageDto,
  },
  {
    event: 'voice:chunk',
    summary: 'Send the next chunk of a live recording',
    description:
      'Indexes start at 0; a resent index acks duplicate: true and is not relayed again; listeners get `voice:chunk` in ' +
      'index order. Over VOICE_CHUNK_MAX_BYTES or VOICE_MAX_BYTES: PAYLOAD_TOO_LARGE; after the end: CONFLICT.',
    payload: VoiceChunkDto,
    ack: VoiceChunkAckDto,
  },
  {
    event: 'voice:end',
    summary: 'End a live recording',
    description:
      'Waits up to 2 s for chunks 0..chunks-1, then acks the message with voice.status = processing (VALIDATION naming ' +
      'the first missing index otherwise; the recording stays open).',
    payload: VoiceEndDto,
    ack: MessageDto,
  },
  {
    event: 'voice:listened',
    summary: 'Say you finished a voice message',
    description: 'The first one per (message, user) is stored and emitted to the room as `voice:listened`.',
    payload: VoiceListenedDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'voice:progress',
    summary: 'Say how far you have played a voice message',
    description:
      'Stored per listener, never moving back (the ack carries the furthest position stored); written at most once per ' +
      'PROGRESS_WRITE_INTERVAL_MS. Not the finished mark: that is voice:listened.',
    payload: VoiceProgressDto,
    ack: VoiceProgressResultDto,
  },
  {
    event: 'floor:request',
    summary: 'Ask for the push-to-talk floor of a ptt channel',
    description:
      'Acks granted or queued (position 1 = next). priority: true from an owner/admin pre-empts the holder (others ' +
      'FORBIDDEN); in a chat channel VALIDATION. Every change is emitted to the room as `floor`.',
    payload: FloorRequestDto,
    ack: FloorRequestResultDto,
  },
  {
    event: 'floor:release',
    summary: 'Give the floor back, or leave its queue',
    description: 'The first in the queue is granted. In a chat channel VALIDATION.',
    payload: FloorReleaseDto,
    ack: EmptyAckDataDto,
  },
  {
    event: 'auth:refresh',
    summary: 'Hand the socket a new access token',
    description: 'Must be a token of the same user (else UNAUTHORIZED); moves the disconnect to the new expiry.',
    payload: AuthRefreshDto,
    ack: AuthRefreshResultDto,
  },
  ...HUDDLE_CLIENT_EVENTS,
];

export const SERVER_EVENTS: ServerEventDoc[] = [
  {
    event: 'ready',
    summary: 'Connected: the rooms joined',
    description: 'Sent once after the handshake, with every workspace and member channel and their head seqs.',
    payload: ReadyDto,
  },
  {
    event: 'event',
    summary: 'A durable change in a channel',
    description:
      'To every socket in the channel room, the sender included. Seqs are gap-free per channel; across nodes they may ' +
      'arrive out of order: order by seq and fill a gap with `sync`.',
    payload: EventDto,
  },
  {
    event: 'typing',
    summary: 'Someone is typing',
    description: 'To the channel room, not to the typist.',
    payload: TypingEventDto,
  },
  {
    event: 'presence',
    summary: 'Presence changes of a workspace',
    description: 'To ws:<wid>, batched: at most one per workspace per second per node.',
    payload: PresenceEventDto,
  },
  {
    event: 'read',
    summary: 'A member moved their read mark',
    description: "To the channel room, the reader's other sockets included.",
    payload: ReadEventDto,
  },
  {
    event: 'voice:chunk',
    summary: 'Live voice relay',
    description: 'Each chunk of a live recording, in index order, to the channel room except the speaker.',
    payload: VoiceChunkEventDto,
  },
  {
    event: 'voice:listened',
    summary: 'A member finished a voice message',
    description: 'To the channel room, the listener included; once per (message, user).',
    payload: VoiceListenedEventDto,
  },
  {
    event: 'floor',
    summary: 'The push-to-talk floor changed',
    description:
      'To the channel room on every change of a ptt channel\'s floor (grant, queue, release, revoke, pre-emption). ' +
      'Events from different nodes may cross: keep the highest rev per channel.',
    payload: FloorEventDto,
  },
  {
    event: 'auth:expiring',
    summary: 'The access token expires soon',
    description:
      '60 s before expiry (at half-life for tokens under 2 minutes); send `auth:refresh` or be disconnected.',
    payload: AuthExpiringDto,
  },
  ...HUDDLE_SERVER_EVENTS,
  {
    event: 'server:shutdown',
    summary: 'This node is shutting down: reconnect now',
    description:
      'Sent to every socket of a node that got SIGTERM. Finish the requests already sent (their acks still come), ' +
      'send nothing new on this socket, then disconnect and connect again: the new connection lands on another node ' +
      '(this one no longer accepts). Sockets still open after a grace period are closed by the server once their acks are out.',
    payload: ServerShutdownDto,
  },
];

/** Classes the Swagger document must hold schemas for (SwaggerModule.createDocument `extraModels`). */
export const ASYNCAPI_MODELS: Type<unknown>[] = [
  ...new Set([
    ...CLIENT_EVENTS.flatMap((doc) => [doc.payload, doc.ack]),
    ...SERVER_EVENTS.map((doc) => doc.payload),
    AckErrorDto,
    HandshakeErrorDto,
  ]),
];

/** Component keys allow `[A-Za-z0-9._-]` only; Socket.IO event names carry colons. */
const key = (event: string) => event.replace(/:/g, '.');
const schemaRef = (type: Type<unknown>) => ({ $ref: `#/components/schemas/${type.name}` });

type JsonObject = Record<string, unknown>;

/**
 * Nest writes a nullable nested DTO as `{nullable: true, type: object, allOf: [{$ref}]}`, which the converter would turn
 * into `type: [object, null]` beside an allOf that null cannot pass; `oneOf: [ref, null]` says it right.
 */
function nullableRefsAsOneOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableRefsAsOneOf);
  if (!node || typeof node !== 'object') return node;
  const entries = Object.entries(node as JsonObject).map(
    ([name, value]) => [name, nullableRefsAsOneOf(value)] as const,
  );
  const copy = Object.fromEntries(entries) as JsonObject;
  if (copy.nullable === true && (copy.type === undefined || copy.type === 'object') && (copy.allOf || copy.$ref)) {
    const { nullable: _nullable, type: _type, description, allOf, $ref, ...rest } = copy;
    const target = $ref ? { $ref } : (allOf as unknown[]).length === 1 ? (allOf as unknown[])[0] : { allOf };
    return { ...(description ? { description } : {}), ...rest, oneOf: [target, { type: 'null' }] };
  }
  return copy;
}

/**
 * The AsyncAPI 3.0 document of the `/rt` namespace. Its schemas are the Swagger document's (so the REST
 * and socket shapes have one source, the DTO classes), converted from OpenAPI 3.0 to JSON Schema.
 */
export function buildAsyncApiDocument(openapi: OpenAPIObject): JsonObject {
  const schemas: JsonObject = {};
  for (const [name, schema] of Object.entries(openapi.components?.schemas ?? {})) {
    const converted = openapiSchemaToJsonSchema(nullableRefsAsOneOf(schema) as JsonObject) as JsonObject;
    delete converted.$schema;
    schemas[name] = converted;
  }
  for (const model of ASYNCAPI_MODELS) {
    if (!schemas[model.name]) throw new Error(`AsyncAPI: no schema for ${model.name}; pass it in extraModels`);
  }

  const messages: JsonObject = {};
  const channelMessages: JsonObject = {};
  const operations: JsonObject = {};
  const addMessage = (id: string, message: JsonObject) => {
    messages[id] = message;
    channelMessages[id] = { $ref: `#/components/messages/${id}` };
  };
  const channelRef = { $ref: '#/channels/rt' };

  for (const doc of CLIENT_EVENTS) {
    const id = `client.${key(doc.event)}`;
    addMessage(id, { name: doc.event, title: doc.event, summary: doc.summary, payload: schemaRef(doc.payload) });
    addMessage(`${id}.ack`, {
      name: `${doc.event} ack`,
      title: `${doc.event} ack`,
      summary: `The ack of ${doc.event}: {ok: true, data} or {ok: false, error}`,
      payload: {
        oneOf: [
          {
            type: 'object',
            required: ['ok', 'data'],
            properties: { ok: { const: true }, data: schemaRef(doc.ack) },
          },
          { $ref: '#/components/schemas/AckFailure' },
        ],
      },
    });
    operations[id] = {
      action: 'receive',
      channel: channelRef,
      title: doc.event,
      summary: doc.summary,
      description: doc.description,
      messages: [{ $ref: `#/channels/rt/messages/${id}` }],
      // Socket.IO acks: the reply comes back on the same socket, to the emit's callback.
      reply: { channel: channelRef, messages: [{ $ref: `#/channels/rt/messages/${id}.ack` }] },
    };
  }
  for (const doc of SERVER_EVENTS) {
    const id = `server.${key(doc.event)}`;
    addMessage(id, { name: doc.event, title: doc.event, summary: doc.summary, payload: schemaRef(doc.payload) });
    operations[id] = {
      action: 'send',
      channel: channelRef,
      title: doc.event,
      summary: doc.summary,
      description: doc.description,
      messages: [{ $ref: `#/channels/rt/messages/${id}` }],
    };
  }

  schemas.AckFailure = {
    type: 'object',
    required: ['ok', 'error'],
    properties: { ok: { const: false }, error: schemaRef(AckErrorDto) },
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Pigeon real-time API',
      version: '1',
      description:
        `The Socket.IO namespace ${RT_NAMESPACE}: send every client event with an ack callback; the ack is ` +
        '{ok: true, data} or {ok: false, error: {code, message, retryAfterMs?, details?}}. Bad input answers ' +
        `VALIDATION and never closes the socket. Error codes: ${Object.values(ErrorCode).join(', ')}. ` +
        'The REST API is /docs-json; the full contract is docs/PROTOCOL.md.',
    },
    defaultContentType: 'application/json',
    servers: {
      pigeon: {
        // Served with the host the caller reached (src/main.ts).
        host: 'localhost:3000',
        protocol: 'ws',
        title: 'A Pigeon API node (Socket.IO over WebSocket; long-polling also accepted)',
        security: [{ $ref: '#/components/securitySchemes/accessToken' }],
      },
    },
    channels: {
      rt: {
        address: RT_NAMESPACE,
        title: 'Socket.IO namespace /rt',
        description:
          'One connection serves every workspace of its user. On connect the socket joins user:<uid>, ws:<wid> of each ' +
          'workspace and ch:<cid> of each member channel, then gets `ready`. A refused handshake is a connect_error ' +
          'whose message is the code and whose data is HandshakeErrorDto.',
        messages: channelMessages,
      },
    },
    operations,
    components: {
      schemas,
      messages,
      securitySchemes: {
        accessToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The access token, sent as `auth: { token }` in the Socket.IO handshake (not as a header).',
        },
      },
    },
  };
}
