/**
 * `huddle game`: the child-process host of a game (ProcessLauncher). The same game main as the worker host
 * (game-main.ts), the same environment contract (worker-env.ts), and the supervision channel over a WebSocket to
 * the matchmaker (process-channel.ts) that survives a restart of the matchmaker: the game plays on, reconnects,
 * and keeps retrying its results (bounded) so the next matchmaker stores them.
 *
 * Typed by hand without the contract it exits 2 with one line naming the missing or bad variable (never a value).
 */
import { runGame } from './game-main.ts';
import { ProcessChannel } from './process-channel.ts';
import { polledUdpUnavailable } from '../protocol/transport/udp-polled.ts';
import { parseWorkerEnv, WorkerEnvError } from './worker-env.ts';

/** How long a finished round's results are retried while no matchmaker answers (a restart takes seconds). */
export const PROCESS_REPORT_RETRY_MS = 120_000;
/** A game that has had no matchmaker this long tells its players and ends (an orphan must not run forever). */
export const ORPHAN_AFTER_MS = 180_000;

export async function runGameCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(
      'usage: huddle game\n\nRuns one game server from its environment (HUDDLE_GAME_ID, HUDDLE_GAME_PORT, ...: see docs/OPERATIONS.md,\n"The game worker contract"). Started by `huddle serve --launcher process`; not meant to be typed by hand.\n',
    );
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`huddle game: takes no arguments (everything comes from the environment)\n`);
    return 2;
  }
  let env;
  try {
    env = parseWorkerEnv(process.env);
  } catch (error) {
    // The message names the variable, never its value.
    process.stderr.write(`huddle game: ${error instanceof WorkerEnvError ? error.message : 'bad environment'}\n`);
    return 2;
  }
  let game: { shutdown(reason: string): void } | undefined;
  const channel = new ProcessChannel({
    gameId: env.gameId,
    reportUrl: env.reportUrl,
    reportToken: env.reportToken,
    locatorFile: process.env.HUDDLE_MATCHMAKER_LOCATOR || undefined,
    orphanAfterMs: ORPHAN_AFTER_MS,
    onOrphaned: () => game?.shutdown('the game server lost its matchmaker'),
  });
  // A signal to the game's own process group (an operator's kill) ends it like a matchmaker's shutdown.
  const onSignal = () => (game ? game.shutdown('the game server is shutting down') : process.exit(1));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    game = await runGame(env, channel, {
      reporter: { retryForMs: PROCESS_REPORT_RETRY_MS, reportUrl: () => channel.reportUrl() },
      // Its own process owns the socket: the process's exit closes it, however the game ends.
      udpReads: process.env.HUDDLE_UDP_READS === 'wakes' && polledUdpUnavailable(env.bindHost) === undefined ? 'wakes' : 'each',
    });
  } catch (error) {
    // Socket errors carry no secrets; the launcher fails the game on `fatal`.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : 'the game failed to start';
    process.stderr.write(`huddle game: ${message}\n`);
    channel.post({ type: 'fatal', message });
    channel.end(1);
  }
  // The process lives as long as the game: its timers and sockets keep it up, and channel.end() exits it.
  return new Promise<number>(() => {});
}
