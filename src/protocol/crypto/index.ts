export * from './aead.ts';
export { nobleAead } from './noble.ts';
import { nobleAead } from './noble.ts';
import type { Aead } from './aead.ts';

/** The backend the protocol uses unless a caller passes another one. */
export const defaultAead: Aead = nobleAead;
