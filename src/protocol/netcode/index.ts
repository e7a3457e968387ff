/** netcode 1.02 wire layer: pure functions of bytes and time, shared by the server, the bot and the browser. */
export * from './constants.ts';
export * from './rejection.ts';
export * from './address.ts';
export * from './sequence.ts';
export * from './replay.ts';
export * from './challenge-token.ts';
export * from './connect-token.ts';
export * from './packet.ts';
export { ByteReader, ByteWriter, constantTimeEqual } from '../bytes.ts';
