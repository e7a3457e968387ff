/**
 * Child process for the timers-and-handles check of tests/hardening/faults.test.ts: a real server with real
 * workers runs a normal game, a crashed game and a lobby that is stopped by the drain, then stops — and must
 * then exit by itself. It never calls process.exit: a leaked timer, socket, worker or server keeps it alive, and
 * the parent's deadline catches that. The last stdout line is a JSON report of the resource counts.
 */
import { runBot } from '../../../src/bot.ts';
import { waitFor } from '../../matchmaker/support/env.ts';
import { resources, serve } from './harness.ts';

const [first, last] = (process.env.FAULT_PORTS ?? '').split('-').map(Number);
const served = await serve({ roundSeconds: 1, gamePorts: { first: first!, last: last! }, maxGames: 3 }, { launcher: process.env.FAULT_LAUNCHER === 'process' ? 'process' : 'worker' });
const { server, launcher } = served;
const before = resources(server);

const crashedResponse = await fetch(`${server.localUrl}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"crash"}' });
const crashed = (await crashedResponse.json()) as { gameId: string };
const outcome = runBot({ server: server.localUrl, name: 'child', mode: { create: {} }, start: 'easy', timeoutSeconds: 15 });
launcher.crash(crashed.gameId);
const played = await outcome;
await fetch(`${server.localUrl}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"left-in-lobby"}' });
await waitFor(() => launcher.exited.has(crashed.gameId), 5000, 'crash to be reported');
const crashedState = server.registry.status(crashed.gameId).state;

await served.close();
const after = resources(server);
console.log(JSON.stringify({ before, after, outcome: played.ok, crashed: crashedState }));
