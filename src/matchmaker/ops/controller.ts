/** `/healthz` and `/metrics` for operators. */
import { Type } from '@sinclair/typebox';
import { Elysia, t } from 'elysia';
import type { GameRegistry } from '../registry.ts';

/** `extraMetrics` appends other components' families (e.g. the relay's) to /metrics. */
export function opsController(registry: GameRegistry, extraMetrics: readonly (() => string)[] = []) {
  return new Elysia({ name: 'ops' })
    .get(
      '/healthz',
      () => ({ status: registry.draining ? ('draining' as const) : ('ok' as const), liveGames: registry.live }),
      {
        response: {
          200: t.Object(
            { status: t.Union([t.Literal('ok'), t.Literal('draining')]), liveGames: Type.Integer({ minimum: 0 }) },
            { description: 'The server is up (draining while it shuts down)', examples: [{ status: 'ok', liveGames: 3 }] },
          ),
        },
        parse: 'json',
        detail: { tags: ['operations'], summary: 'Liveness' },
      },
    )
    .get(
      '/metrics',
      ({ set }) => {
        set.headers['content-type'] = 'text/plain; version=0.0.4; charset=utf-8';
        return [registry.metrics.render(registry.snapshot()), ...extraMetrics.map((render) => render())].join('');
      },
      {
        response: { 200: t.String({ description: 'Prometheus text exposition format', examples: ['huddle_games{state="lobby"} 2\n'] }) },
        parse: 'text',
        detail: { tags: ['operations'], summary: 'Prometheus metrics' },
      },
    );
}
