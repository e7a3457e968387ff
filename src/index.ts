#!/usr/bin/env bun
/**
 * The `huddle` command. `huddle` and `huddle serve` run the matchmaker; `--help` and `--version` answer and exit.
 * `huddle bot` is a headless player (bot-command.ts); `huddle game` one game server (workers/game-process.ts).
 */
import pkg from '../package.json' with { type: 'json' };
import { parseConfig, serveHelp } from './config.ts';
import { createLogger, resolveLogFormat } from './log.ts';
import { reexecWithEngineSettings } from './engine-settings.ts';
// The matchmaker and the bot are loaded by their commands only: `huddle game` (one per game with --launcher process)
// starts in a third of the time without them.

/** A subcommand gets the arguments after its name and resolves to the exit code. */
export type Command = (args: string[]) => Promise<number>;

export const COMMANDS: Record<string, Command> = {
  serve: runServe,
  bot: async (args) => (await import('./bot-command.ts')).runBotCommand(args),
  // One game server from its environment, as `--launcher process` starts it (src/workers/game-process.ts).
  game: async (args) => (await import('./workers/game-process.ts')).runGameCommand(args),
};

async function runServe(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(serveHelp());
    return 0;
  }
  const parsed = parseConfig(args, process.env);
  if (!parsed.ok) {
    process.stderr.write(`huddle: ${parsed.error}\n`);
    return 2;
  }
  const config = parsed.config;
  const log = createLogger({ format: resolveLogFormat(config.logFormat) });
  const [{ startServer }, { StartupCheckError }, { relayExtension }, { withWebClient }] = await Promise.all([
    import('./matchmaker/server.ts'),
    import('./matchmaker/edge/startup-checks.ts'),
    import('./matchmaker/relay/extension.ts'),
    import('./matchmaker/web/web-client.ts'),
  ]);
  let server;
  try {
    server = await startServer({ config, log, extend: withWebClient(relayExtension()) });
  } catch (error) {
    // A setting this machine cannot honour (bad --host, a port in use, a bad TLS pair): like any bad setting.
    if (error instanceof StartupCheckError) {
      process.stderr.write(`huddle: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`huddle: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  // The one line scripts wait for (`listening on (https?://\S+)`), then, on its own line, the clear-text warning.
  process.stdout.write(`huddle ${pkg.version} listening on ${server.url}\n`);
  if (server.tokensInClear) {
    process.stdout.write(
      `huddle: warning: no TLS on ${config.host}: connect tokens (they carry each connection's keys) travel in clear; serve HTTPS with --tls-cert/--tls-key or behind a TLS proxy (--trust-proxy, --public-url https://…)\n`,
    );
    log.warn('server.tokens_in_clear', { message: 'no TLS on a non-loopback address: connect tokens travel in clear' });
  }
  log.info('server.ready', { url: server.url, version: pkg.version });
  // Certificate renewal without a restart: `systemctl reload` / `kill -HUP`. A bad new pair keeps the old one.
  const onHangup = () => {
    const reloaded = server.reloadTls();
    if (reloaded.ok) log.info('server.tls_reloaded', { message: `now serving ${reloaded.subject}, valid to ${reloaded.validTo}` });
    else log.error('server.tls_reload_failed', { message: reloaded.error });
  };
  if (server.tls) process.on('SIGHUP', onHangup);

  const done = Promise.withResolvers<number>();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      // A second signal means "now": skip the drain.
      done.resolve(1);
      return;
    }
    signalled = true;
    log.info('server.signal', { reason: signal });
    server.stop(`the server is shutting down (${signal})`).then(
      () => done.resolve(0),
      (error: unknown) => {
        log.error('server.stop_failed', { message: error instanceof Error ? error.message : String(error) });
        done.resolve(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whatever ends the serve, its handlers go with it (main() may run in a process that lives on).
  return done.promise.finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHangup);
  });
}

function usage(): string {
  return `huddle ${pkg.version}: self-hosted real-time multiplayer games for groups of friends\n\n${serveHelp()}\ncommands: ${Object.keys(COMMANDS).join(', ')} (default: serve); "huddle COMMAND --help" for each\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') {
    process.stdout.write(`huddle ${pkg.version}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (first === undefined || first.startsWith('-')) return runServe(argv);
  const command = COMMANDS[first];
  if (!command) {
    process.stderr.write(`huddle: unknown command ${JSON.stringify(first)} (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  return command(rest);
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  // A command that runs (not one that only prints its help or version) runs with huddle's engine settings (JSC's and mimalloc's).
  const onlyPrints = args.some((arg) => ['--help', '-h', 'help', '--version', '-v'].includes(arg));
  if (!onlyPrints) await reexecWithEngineSettings();
  process.exit(await main(args));
}
