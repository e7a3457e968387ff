/**
 * Worker entry for `bench/hosting-run.ts probe`: loads a chosen slice of what the game worker loads, then says
 * `ready` and idles, so the RSS a worker costs can be split between the bare runtime, TypeBox, the AEAD backends
 * and the rest of the game worker's modules, and an idle loop with a bound UDP socket.
 *
 * HUDDLE_PROBE: empty | typebox (src/workers/messages.ts) | simd (the SIMD AEAD alone) | libsodium (its wasm AEAD
 * alone) | noble | sodium (src/protocol/crypto/index.ts: the default backend as a worker gets it, SIMD) | modules
 * (every import of the game worker) | udp (those plus a bound socket and the worker's two timers)
 */
export {};

declare const self: Worker;

const variant = process.env.HUDDLE_PROBE ?? 'empty';
const keepAlive: unknown[] = [];

switch (variant) {
  case 'empty':
    break;
  case 'typebox':
    keepAlive.push(await import('../src/workers/messages.ts'));
    break;
  case 'simd': {
    const { createSimdAead } = await import('../src/protocol/crypto/simd.ts');
    keepAlive.push(await createSimdAead());
    break;
  }
  case 'libsodium': {
    const { createSodiumAead } = await import('../src/protocol/crypto/sodium.ts');
    keepAlive.push(await createSodiumAead());
    break;
  }
  case 'noble':
    keepAlive.push(await import('../src/protocol/crypto/noble.ts'));
    break;
  case 'sodium':
    keepAlive.push(await import('../src/protocol/crypto/index.ts'));
    break;
  case 'modules':
  case 'udp': {
    // The game worker's imports, minus its entry (which would start a game).
    keepAlive.push(
      await import('../src/workers/reporter.ts'),
      await import('../src/workers/messages.ts'),
      await import('../src/workers/worker-env.ts'),
      await import('../src/workers/tick-timer.ts'),
      await import('../src/game/session.ts'),
      await import('../src/game/peer-link.ts'),
      await import('../src/game/arena-round.ts'),
      await import('../src/protocol/netcode/address.ts'),
      await import('../src/protocol/netcode/server.ts'),
    );
    if (variant === 'udp') {
      const { openUdpTransport } = await import('../src/protocol/transport/udp.ts');
      const socket = await openUdpTransport({ hostname: '127.0.0.1', port: Number(process.env.HUDDLE_PROBE_PORT), onDatagram: () => {} });
      keepAlive.push(socket);
      // The game worker's two timers: the 30 Hz loop and the heartbeat.
      setInterval(() => {}, 1000 / 30);
      setInterval(() => self.postMessage('heartbeat'), 750);
    }
    break;
  }
  default:
    throw new Error(`unknown HUDDLE_PROBE ${variant}`);
}

self.postMessage('ready');
// Keeps the worker alive (and its modules reachable) until the parent terminates it.
setInterval(() => void keepAlive.length, 60_000);
