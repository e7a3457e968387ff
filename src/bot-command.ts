/**
 * `huddle bot` argument parsing and output. The bot itself is in bot.ts, so tests and load scripts can run
 * many bots in one process without going through the CLI.
 */
import { parseArgs } from 'node:util';
import { BotError, type BotEvent, parseDifficulty, runBot } from './bot.ts';

export function botHelp(): string {
  return `usage: huddle bot [options]

A headless player over real UDP: creates a game (as host) or joins one by passcode, chats, starts the game
when it is host, and plays the arena until the results (it steers toward rocks and shoots them). If the
connection is lost it rejoins its seat by itself while the game holds it (--rejoin-grace on the server).

  --server URL          matchmaker base URL (default http://127.0.0.1:8080, or HUDDLE_SERVER)
  --name NAME           display name (default bot-XXXX)
  --create              create a game and be its host (default when --join is not given)
  --join PASSCODE       join the game with this passcode
  --watch KEY           watch a game as a spectator, with a watch key (from a create or join answer)
  --max-players N       with --create: players the game admits
  --create-token TOKEN  with --create: bearer token if the server requires one (or HUDDLE_CREATE_TOKEN)
  --start DIFFICULTY    as host: start on easy, normal or hard ...
  --start-when N        ... once N players (host included) are in the lobby (default 1)
  --chat TEXT           say this in the lobby chat once connected
  --timeout SECONDS     give up after this long (default 600)
  --json                one JSON object per event instead of text; the last line is a summary with the
                        gaps between arena snapshots as they arrived (p50/p99 at 1 ms resolution, worst)
`;
}

export async function runBotCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        server: { type: 'string' },
        name: { type: 'string' },
        create: { type: 'boolean' },
        join: { type: 'string' },
        watch: { type: 'string' },
        'max-players': { type: 'string' },
        'create-token': { type: 'string' },
        start: { type: 'string' },
        'start-when': { type: 'string' },
        chat: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`huddle bot: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(botHelp());
    return 0;
  }
  const number = (name: string, text: string | undefined, min: number, max: number): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) throw new BotError(`--${name} must be a number from ${min} to ${max}`);
    return value;
  };
  const json = values.json === true;
  const print = (event: BotEvent): void => {
    process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${describe(event)}\n`);
  };
  try {
    if ([values.create, values.join, values.watch].filter((v) => v !== undefined && v !== false).length > 1) {
      throw new BotError('--create, --join and --watch are exclusive');
    }
    const maxPlayers = number('max-players', values['max-players'], 1, 256);
    const createToken = values['create-token'] ?? process.env.HUDDLE_CREATE_TOKEN;
    const outcome = await runBot({
      server: values.server ?? process.env.HUDDLE_SERVER ?? 'http://127.0.0.1:8080',
      name: values.name ?? `bot-${Math.floor(Math.random() * 10000).toString().padStart(4, '0')}`,
      mode: values.watch ? { watch: values.watch } : values.join ? { join: values.join } : { create: { ...(maxPlayers ? { maxPlayers } : {}), ...(createToken ? { createToken } : {}) } },
      ...(values.start ? { start: parseDifficulty(values.start) } : {}),
      ...(values['start-when'] ? { startWhenPlayers: number('start-when', values['start-when'], 1, 256) } : {}),
      ...(values.chat ? { chat: values.chat } : {}),
      ...(values.timeout ? { timeoutSeconds: number('timeout', values.timeout, 1, 86400) } : {}),
      onEvent: print,
    });
    // The last line: how it went, and the stutter this player saw (gaps between arena snapshots as they arrived).
    const gaps = outcome.snapshotGaps;
    const summary = {
      event: 'summary',
      ok: outcome.ok,
      reason: outcome.reason,
      snapshots: gaps?.snapshots ?? 0,
      snapshotGapP50Ms: finiteOrNull(gaps?.p50Ms),
      snapshotGapP99Ms: finiteOrNull(gaps?.p99Ms),
      snapshotGapMaxMs: gaps && gaps.gaps > 0 ? gaps.maxMs : null,
    };
    process.stdout.write(
      json
        ? `${JSON.stringify(summary)}\n`
        : `summary: ${outcome.reason}; ${summary.snapshots} snapshots` +
            `${summary.snapshotGapP99Ms === null ? '' : `, gap between snapshots p99 ≤ ${summary.snapshotGapP99Ms} ms, worst ${summary.snapshotGapMaxMs} ms`}\n`,
    );
    return outcome.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`huddle bot: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof BotError ? 2 : 1;
  }
}

function describe(event: BotEvent): string {
  switch (event.event) {
    case 'created':
      return `created game ${event.gameId}: passcode ${event.passcode} (UDP port ${event.port})`;
    case 'joined':
      return `joined game ${event.gameId} (UDP port ${event.port})`;
    case 'connected':
      return `connected as player ${event.you + 1}`;
    case 'watching':
      return 'watching as a spectator';
    case 'connection-lost':
      return 'connection lost, rejoining…';
    case 'rejoined':
      return 'rejoined';
    case 'chat':
      return `<${event.from}> ${event.text}`;
    case 'notice':
      return `notice: ${event.message}`;
    case 'started':
      return `the game started on ${event.difficulty}`;
    case 'results':
      return `results: ${event.scores.map((s, i) => `${i + 1}. ${s.name} ${s.score}`).join(', ')}`;
    case 'closed':
      return `closed: ${event.reason}`;
  }
}

const finiteOrNull = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? value : null);
