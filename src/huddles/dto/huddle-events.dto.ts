import { ApiProperty } from '@nestjs/swagger';
import { HuddleSignalBodyDto } from './huddle.dto';

/*
 * Socket-only shapes of huddles (server events and ack data), documentation classes for the AsyncAPI
 * document like src/realtime/asyncapi.models.ts; the service builds plain objects.
 */

export class HuddleParticipantDto {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ description: 'The participant is this socket (a user on two devices is two participants)', example: 'PbvVtgM2pHjx3NQvAAAB' })
  socketId: string;
  @ApiProperty() muted: boolean;
  @ApiProperty({ description: 'As the participant last reported with huddle:speaking' }) speaking: boolean;
  @ApiProperty({ format: 'date-time', description: 'Participants are listed in join order' }) joinedAt: string;
}

export class IceServerDto {
  @ApiProperty({ type: [String], example: ['turn:turn.example.com:3478?transport=udp'] }) urls: string[];
  @ApiProperty({ required: false, description: 'TURN only: `<unix expiry>:<userId>`', example: '1767225600:6f1c0b8e-0000-4000-8000-000000000001' })
  username?: string;
  @ApiProperty({ required: false, description: 'TURN only: base64(HMAC-SHA1(TURN_SECRET, username))' }) credential?: string;
}

export class HuddleJoinAckDto {
  @ApiProperty({ format: 'uuid', description: 'Stays the same until the last participant leaves' }) huddleId: string;
  @ApiProperty({ type: [HuddleParticipantDto], description: 'Everyone in the huddle, this socket included' })
  participants: HuddleParticipantDto[];
  @ApiProperty({ type: [IceServerDto], description: 'For RTCPeerConnection({iceServers})' }) iceServers: IceServerDto[];
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When the TURN credential stops working; null without TURN' })
  iceServersExpireAt: string | null;
}

export class HuddleStateDto {
  @ApiProperty({ format: 'uuid' }) workspaceId: string;
  @ApiProperty({ format: 'uuid' }) channelId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'null: no huddle now' }) huddleId: string | null;
  @ApiProperty({ type: 'integer', description: 'Revision of the huddle (0 when none)' }) rev: number;
  @ApiProperty({ type: [HuddleParticipantDto] }) participants: HuddleParticipantDto[];
}

export class HuddleEventDto {
  @ApiProperty({ format: 'uuid' }) workspaceId: string;
  @ApiProperty({ format: 'uuid' }) channelId: string;
  @ApiProperty({ format: 'uuid', description: 'The huddle; with participants [] it has ended' }) huddleId: string;
  @ApiProperty({ type: 'integer', description: 'Grows with every change of this huddle: ignore an event with a lower rev than one already seen' })
  rev: number;
  @ApiProperty({ type: [HuddleParticipantDto], description: 'Everyone in the huddle now, in join order' })
  participants: HuddleParticipantDto[];
}

export class HuddleSignalEventDto {
  @ApiProperty({ format: 'uuid' }) channelId: string;
  @ApiProperty({ description: 'Answer to this socket id' }) fromSocketId: string;
  @ApiProperty({ format: 'uuid' }) fromUserId: string;
  @ApiProperty({ type: HuddleSignalBodyDto }) signal: HuddleSignalBodyDto;
}
