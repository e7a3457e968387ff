import type { ServerContext, ServerExtension } from '../server.ts';
import { createRelay, type Relay } from './relay.ts';
import { relayCaps, type RelayLimits } from './relay-model.ts';
import { relayRoutes } from './relay-routes.ts';

/**
 * The relay as a `startServer({ extend })` component: resolves games through the registry, closes a game's
 * tunnels when the registry releases it (before its port can be reused), appends its metrics, and closes every
 * tunnel on stop. `onRelay` hands the instance out (tests, diagnostics).
 */
export function relayExtension(options: { limits?: Partial<RelayLimits>; onRelay?: (relay: Relay) => void } = {}) {
  return ({ config, registry, gameHost }: ServerContext): ServerExtension => {
    const relay = createRelay({
      resolveGame: (gameId) => registry.resolveLive(gameId),
      gameHost,
      // Per game its seats, spectators and rejoin overlaps; per address never more than half of anything.
      limits: {
        ...relayCaps(config),
        framesPerSecond: config.relayFramesPerSecond,
        burstFrames: config.relayFramesPerSecond * 2,
        idleTimeoutMs: config.relayIdleSeconds * 1000,
        ...options.limits,
      },
    });
    const unsubscribe = registry.onGameEnded((gameId) => relay.closeGame(gameId));
    options.onRelay?.(relay);
    return {
      plugins: [relayRoutes(relay)],
      extraMetrics: [() => relay.metrics()],
      stop: () => {
        unsubscribe();
        relay.closeAll();
      },
    };
  };
}
