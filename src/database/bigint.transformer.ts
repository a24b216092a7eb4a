import { ValueTransformer } from 'typeorm';

/** Seqs are bigint in Postgres (pg returns strings) and JSON integers on the wire. */
export const bigintToNumber: ValueTransformer = {
  to: (value?: number | null) => value,
  from: (value?: string | null) => (value === null || value === undefined ? value : Number(value)),
};
