import { Initial1764300000000 } from './migrations/1764300000000-initial';

/** Every migration, in order. Never edit one once committed; add a new one. */
export const MIGRATIONS = [Initial1764300000000];
