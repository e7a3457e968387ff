import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config.ts';
import { relayExtension } from '../../src/matchmaker/relay/extension.ts';
import type { Relay } from '../../src/matchmaker/relay/relay.ts';
import { type RunningServer, startServer } from '../../src/matchmaker/server.ts';
import { RelayCloseCode } from '../../src/protocol/transport/websocket.ts';
import { BunWorkerLauncher } from '../../src/workers/launcher.ts';
import { freePortRange } from '../matchmaker/support/env.ts';
import { closeOf, openClient, UPGRADE_HEADERS, waitFor } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveWithRelay(): Promise<{ server: RunningServer; relay: Relay }> {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-relay-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let relay: Relay | undefined;
  const server = await startServer({
    config: { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), gamePorts: await freePortRange(2), maxGames: 2 },
    // The matchmaker's echoing stand-in for a game worker: a real Bun Worker on a real UDP port.
    launcher: new BunWorkerLauncher({ entry: new URL('../matchmaker/fixtures/udp-worker.ts', import.meta.url).href, stopGraceMs: 500 }),
    extend: relayExtension({ onRelay: (r) => (relay = r) }),
  });
  cleanups.push(() => server.stop());
  if (relay === undefined) throw new Error('the relay extension was not used');
  return { server, relay };
}

describe('relay mounted in the matchmaker (startServer + relayExtension, real workers)', () => {
  test('the relayUrl from create reaches the game; the game ending closes the tunnel; metrics show it', async () => {
    const { server, relay } = await serveWithRelay();
    const created = await fetch(`${server.url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
    expect(created.status).toBe(201);
    const game = (await created.json()) as { gameId: string; relayUrl: string };
    expect(game.relayUrl).toBe(`ws://127.0.0.1:${server.port}/relay?game=${game.gameId}`);

    const client = await openClient(game.relayUrl);
    client.ws.send(new TextEncoder().encode('ping'));
    await waitFor(() => client.messages.length === 1, 3000, 'echo from the worker');
    expect(new TextDecoder().decode(client.messages[0])).toBe('ping');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('huddle_relay_sockets 1\n');

    // The worker ends its lobby; the registry releases the game and the relay closes its tunnel.
    client.ws.send(new TextEncoder().encode('exit:lobby_idle'));
    expect(await closeOf(client, 3000)).toEqual({ code: RelayCloseCode.GameEnded, reason: 'game ended' });
    expect(relay.openSockets).toBe(0);
    expect(relay.counters.boundUdpSockets).toBe(0);
    const again = await fetch(`${server.url}/relay?game=${game.gameId}`, { headers: UPGRADE_HEADERS });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: { code: 'not_found', message: 'no live game has this id' } });
  });

  test('stopping the server closes open tunnels', async () => {
    const { server, relay } = await serveWithRelay();
    const created = await fetch(`${server.url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
    const { relayUrl } = (await created.json()) as { relayUrl: string };
    const client = await openClient(relayUrl);
    await server.stop();
    expect([RelayCloseCode.GameEnded, RelayCloseCode.GoingAway] as number[]).toContain((await closeOf(client, 3000)).code);
    expect(relay.openSockets).toBe(0);
  });
});
