import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsObject, IsString, IsUUID, Matches, ValidateBy } from 'class-validator';

/** Limits of a relayed signal: a browser's SDP for a few audio/video m-lines stays far below. */
export const SDP_MAX_LENGTH = 32 * 1024;
export const CANDIDATE_MAX_LENGTH = 1024;

export type HuddleSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | {
      type: 'candidate';
      candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null; usernameFragment?: string | null } | null;
    };

const isShortString = (value: unknown, max: number) => typeof value === 'string' && value.length <= max;
const isOptionalShortString = (value: unknown, max: number) => value === undefined || value === null || isShortString(value, max);
const hasOnly = (value: object, allowed: string[]) => Object.keys(value).every((key) => allowed.includes(key));
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

/**
 * The relayed signal, checked field by field and rebuilt from known fields (null when it is not a
 * valid one), so a peer only ever receives an offer/answer SDP or an ICE candidate.
 */
export function parseSignal(value: unknown): HuddleSignal | null {
  if (!isPlainObject(value)) return null;
  if (value.type === 'offer' || value.type === 'answer') {
    if (!hasOnly(value, ['type', 'sdp']) || !isShortString(value.sdp, SDP_MAX_LENGTH) || value.sdp === '') return null;
    return { type: value.type, sdp: value.sdp as string };
  }
  if (value.type !== 'candidate' || !hasOnly(value, ['type', 'candidate'])) return null;
  // null: the end of candidates.
  if (value.candidate === null) return { type: 'candidate', candidate: null };
  const c = value.candidate;
  if (!isPlainObject(c) || !hasOnly(c, ['candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment'])) return null;
  if (!isShortString(c.candidate, CANDIDATE_MAX_LENGTH) || !isOptionalShortString(c.sdpMid, 64) || !isOptionalShortString(c.usernameFragment, 256)) {
    return null;
  }
  const index = c.sdpMLineIndex;
  if (!(index === undefined || index === null || (Number.isInteger(index) && (index as number) >= 0 && (index as number) <= 1024))) return null;
  return {
    type: 'candidate',
    candidate: {
      candidate: c.candidate as string,
      ...(c.sdpMid !== undefined ? { sdpMid: c.sdpMid as string | null } : {}),
      ...(index !== undefined ? { sdpMLineIndex: index as number | null } : {}),
      ...(c.usernameFragment !== undefined ? { usernameFragment: c.usernameFragment as string | null } : {}),
    },
  };
}

const IsSignal = () =>
  ValidateBy({
    name: 'isSignal',
    validator: {
      validate: (value: unknown) => parseSignal(value) !== null,
      defaultMessage: () =>
        `signal must be {type: "offer"|"answer", sdp (1..${SDP_MAX_LENGTH} chars)} or {type: "candidate", candidate: ` +
        '{candidate, sdpMid?, sdpMLineIndex?, usernameFragment?} | null}',
    },
  });

export class HuddleChannelDto {
  @ApiProperty({ description: "Channel whose huddle this is (the caller must be a member)", format: 'uuid' })
  @IsUUID()
  channelId: string;
}

export class HuddleMuteDto extends HuddleChannelDto {
  @ApiProperty({ description: 'Whether this socket now sends no audio' })
  @IsBoolean()
  muted: boolean;
}

export class HuddleSpeakingDto extends HuddleChannelDto {
  @ApiProperty({ description: "Whether this socket's voice activity detector hears speech now" })
  @IsBoolean()
  speaking: boolean;
}

export class IceCandidateDto {
  @ApiProperty({ description: 'RTCIceCandidate.candidate', maxLength: CANDIDATE_MAX_LENGTH }) candidate: string;
  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 64 }) sdpMid?: string | null;
  @ApiPropertyOptional({ nullable: true, type: 'integer', minimum: 0, maximum: 1024 }) sdpMLineIndex?: number | null;
  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 256 }) usernameFragment?: string | null;
}

export class HuddleSignalBodyDto {
  @ApiProperty({ enum: ['offer', 'answer', 'candidate'] }) type: 'offer' | 'answer' | 'candidate';
  @ApiPropertyOptional({ description: 'Session description (offer, answer)', maxLength: SDP_MAX_LENGTH }) sdp?: string;
  @ApiPropertyOptional({ description: 'ICE candidate (candidate); null marks the end of candidates', type: IceCandidateDto, nullable: true })
  candidate?: IceCandidateDto | null;
}

export class HuddleSignalDto extends HuddleChannelDto {
  @ApiProperty({ description: 'Socket id of the participant addressed (from the participants list)', example: 'PbvVtgM2pHjx3NQvAAAB' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'toSocketId must be a socket id' })
  toSocketId: string;

  @ApiProperty({ description: 'Offer, answer or ICE candidate, relayed as is', type: HuddleSignalBodyDto })
  @IsObject()
  @IsSignal()
  signal: HuddleSignal;
}
