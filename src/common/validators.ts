import { Transform } from 'class-transformer';

/** Trims strings before validation; leaves other types for the type check to reject. */
export const Trim = () => Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** Query-string integers: '12' -> 12, anything else stays as it is and fails @IsInt. */
export const ToInt = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value));

export const CLIENT_MSG_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
export const SLUG = /^[a-z0-9][a-z0-9-]{1,38}$/;
export const CHANNEL_NAME = /^[a-z0-9][a-z0-9_-]{0,79}$/;
