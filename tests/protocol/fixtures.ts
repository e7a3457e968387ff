/** Small shared inputs for the netcode unit tests (the known-answer vectors live in vectors.json instead). */
import { generateConnectToken, parseAddress, type GenerateConnectTokenOptions } from '../../src/protocol/netcode/index.ts';

export const PROTOCOL_ID = 0x0102_0304_0506_0708n;
export const NOW = 1_700_000_000;

/** `length` bytes counting up from `start`: distinct, recognisable keys. */
export function counting(length: number, start = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
}

export const PRIVATE_KEY = counting(32, 0x10);

export function makeToken(overrides: Partial<GenerateConnectTokenOptions> = {}) {
  return generateConnectToken({
    protocolId: PROTOCOL_ID,
    privateKey: PRIVATE_KEY,
    clientId: 42n,
    serverAddresses: [parseAddress('127.0.0.1:40000')],
    userData: new TextEncoder().encode('ann'),
    expireSeconds: 30,
    timeoutSeconds: 5,
    nowSeconds: NOW,
    ...overrides,
  });
}
