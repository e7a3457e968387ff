/**
 * The players of the tick benchmark, in their own process so the matchmaker's CPU figure counts only the server
 * (bench/hosting-run.ts spawns it). For each of K games: a host bot creates it and starts it (normal difficulty)
 * once 4 players are in, and 3 bots join by passcode; all tap at runBot's default 5/s until the results.
 * Games are created one after another (each once the previous one's host is in its lobby) to keep the creation
 * burst off the measurement.
 *
 *   bun bench/hosting-bots.ts --url http://127.0.0.1:PORT --games K --timeout SECONDS
 *
 * Writes JSON lines to stdout: {"type":"created","games":K} once every game exists, then {"type":"done",...}.
 */
import { runBot, type BotEvent, type BotOutcome } from '../src/bot.ts';

function flag(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

const url = flag('url');
const games = Number(flag('games'));
const timeoutSeconds = Number(flag('timeout'));
const PLAYERS = 4;

const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

let connected = 0;
const outcomes: Promise<BotOutcome>[] = [];
const createErrors: string[] = [];
const notices: Record<string, number> = {};
const onEvent = (event: BotEvent): void => {
  if (event.event === 'connected') connected++;
  // A start refused or a lobby closing says why a game never got going.
  if (event.event === 'notice') notices[`${event.code}: ${event.message}`] = (notices[`${event.code}: ${event.message}`] ?? 0) + 1;
};

for (let g = 0; g < games; g++) {
  const hostConnected = Promise.withResolvers<string | undefined>();
  let passcode: string | undefined;
  const host = runBot({
    server: url,
    name: `host${g}`,
    mode: { create: { maxPlayers: PLAYERS } },
    start: 'normal',
    startWhenPlayers: PLAYERS,
    timeoutSeconds,
    onEvent: (event) => {
      if (event.event === 'created') passcode = event.passcode;
      // The first player the worker admits becomes host: joiners that beat the creator in would take the host
      // role from the only bot that starts the game, so they go in once it is connected (as a person would).
      if (event.event === 'connected') hostConnected.resolve(passcode);
      onEvent(event);
    },
  });
  // A failed create never connects; settle the wait from the outcome instead.
  const hostOutcome = host.catch((error: unknown): BotOutcome => {
    createErrors.push(error instanceof Error ? error.message : String(error));
    return { ok: false, reason: 'create failed' };
  });
  void hostOutcome.then(() => hostConnected.resolve(undefined));
  outcomes.push(hostOutcome);
  const hostIn = await hostConnected.promise;
  if (hostIn === undefined) continue;
  for (let p = 1; p < PLAYERS; p++) {
    outcomes.push(
      runBot({ server: url, name: `g${g}p${p}`, mode: { join: hostIn }, timeoutSeconds, onEvent }).catch(
        (error: unknown): BotOutcome => ({ ok: false, reason: error instanceof Error ? error.message : String(error) }),
      ),
    );
  }
}
say({ type: 'created', games, bots: outcomes.length });

const settled = await Promise.all(outcomes);
const reasons: Record<string, number> = {};
for (const outcome of settled) if (!outcome.ok) reasons[outcome.reason] = (reasons[outcome.reason] ?? 0) + 1;
say({
  type: 'done',
  bots: settled.length,
  connected,
  withResults: settled.filter((o) => o.ok).length,
  failures: reasons,
  notices,
  createErrors: createErrors.slice(0, 5),
});
