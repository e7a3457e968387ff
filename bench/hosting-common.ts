/**
 * Shared pieces of the hosting benchmarks (bench/hosting.ts): a launcher that wraps the real Bun Worker launcher
 * so a benchmark can end one lobby and see every heartbeat, a logger that keeps the registry's `game.ready`
 * durations, the server configuration they all use, and small statistics helpers.
 */
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../src/config.ts';
import { createLogger, type Logger, type LogFields } from '../src/log.ts';
import { median } from '../src/stats/percentile.ts';
import { BunWorkerLauncher, type GameHandle, type GameLauncher, type LaunchSpec, type LauncherEvent } from '../src/workers/launcher.ts';
import type { TickStats } from '../src/workers/messages.ts';

/** Outside Linux's ephemeral range (32768–60999), so a bot's port-0 socket can never take a game's port. */
export const DEFAULT_GAME_PORTS = '29000-29399';

export interface HeartbeatSample {
  /** performance.now() when the heartbeat reached the matchmaker thread. */
  at: number;
  tick: TickStats;
}

interface Tracked {
  handle: GameHandle;
  exited: PromiseWithResolvers<void>;
}

/**
 * Wraps BunWorkerLauncher without changing what the registry sees. The registry has no API to end one lobby
 * (only sweep backstops and a full drain), so the latency and RSS runs end their games here; and the tick run
 * records every heartbeat's tick summary, where polling `registry.tickStats()` would alias against the heartbeat.
 */
export class TrackingLauncher implements GameLauncher {
  private readonly inner: GameLauncher;
  private readonly games = new Map<string, Tracked>();
  onHeartbeat: ((gameId: string, sample: HeartbeatSample) => void) | undefined;

  constructor(inner: GameLauncher = new BunWorkerLauncher()) {
    this.inner = inner;
  }

  /** As the inner launcher: with the product's default, the server keeps warm games (registry/warm.ts). */
  get warm(): boolean {
    return this.inner.warm ?? false;
  }

  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    const gameId = spec.env.gameId;
    const exited = Promise.withResolvers<void>();
    const handle = this.inner.launch(spec, (event) => {
      if (event.type === 'heartbeat' && event.tick) this.onHeartbeat?.(gameId, { at: performance.now(), tick: event.tick });
      // The registry sees the event first, so once `exited` resolves it has released the slot and the port.
      onEvent(event);
      if (event.type === 'exit') {
        this.games.delete(gameId);
        exited.resolve();
      }
    });
    this.games.set(gameId, { handle, exited });
    return handle;
  }

  /** Games whose worker has not exited yet. */
  get running(): number {
    return this.games.size;
  }

  /** Ends a game's worker and resolves once the registry has released it. */
  stopGame(gameId: string, reason = 'benchmark'): Promise<void> {
    const tracked = this.games.get(gameId);
    if (!tracked) return Promise.resolve();
    tracked.handle.stop(reason);
    return tracked.exited.promise;
  }
}

/** The product's logger (JSON lines, the client-event sampler, both secret guards) writing to /dev/null. */
export function productLogger(): Logger {
  const fd = openSync('/dev/null', 'w');
  return createLogger({ format: 'json', write: (line) => writeSync(fd, `${line}\n`) });
}

/**
 * Logs every line as `huddle serve` does (benchmarks measure with the product's logging: formatting and writing
 * each join's line is part of what it costs) and keeps the registry's own worker start durations
 * (`game.ready durationMs`, whole ms) and anything that went wrong.
 */
export class ReadyDurationLog implements Logger {
  readonly readyMs: number[] = [];
  readonly problems: string[] = [];
  constructor(private readonly inner: Logger = productLogger()) {}
  debug(event: string, fields?: LogFields): void {
    this.inner.debug(event, fields);
  }
  info(event: string, fields?: LogFields): void {
    this.inner.info(event, fields);
    if (event === 'game.ready' && typeof fields?.durationMs === 'number') this.readyMs.push(fields.durationMs);
  }
  warn(event: string, fields?: LogFields): void {
    this.inner.warn(event, fields);
    // Benchmark-ended games are logged as failed (stopped from outside the registry); everything else is news.
    if (event === 'game.failed' && typeof fields?.reason === 'string' && /^(stopped|exited_shutdown)$/.test(fields.reason)) return;
    this.problems.push(`${event} ${JSON.stringify(fields ?? {})}`);
  }
  error(event: string, fields?: LogFields): void {
    this.inner.error(event, fields);
    this.problems.push(`${event} ${JSON.stringify(fields ?? {})}`);
  }
  protect(secret: string): void {
    this.inner.protect(secret);
  }
  unprotect(secret: string): void {
    this.inner.unprotect(secret);
  }
}

export interface BenchServerOptions {
  gamePorts: string;
  maxGames: number;
  /** The server's cap on players per game; 4 unless a benchmark plays bigger games (bench/load.ts: 8). */
  maxPlayers?: number;
  roundSeconds?: number;
  heartbeatTimeoutMs?: number;
  /** The server's --warm-games; the product's default (1) when not given. */
  warmGames?: number;
  /** The server's --udp-reads; the product's default (wakes) when not given. */
  udpReads?: 'wakes' | 'each';
}

/** A loopback-only config on a random HTTP port, with a throwaway data directory the caller must remove. */
export function benchConfig(options: BenchServerOptions): { config: Config; dataDir: string; removeDataDir: () => void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'huddle-bench-'));
  const argv = [
    '--host', '127.0.0.1',
    '--port', '0',
    '--public-host', '127.0.0.1',
    '--game-ports', options.gamePorts,
    '--max-games', String(options.maxGames),
    '--max-players', String(options.maxPlayers ?? 4),
    '--data-dir', dataDir,
    '--log-format', 'json',
  ];
  if (options.roundSeconds !== undefined) argv.push('--round-seconds', String(options.roundSeconds));
  if (options.heartbeatTimeoutMs !== undefined) argv.push('--heartbeat-timeout-ms', String(options.heartbeatTimeoutMs));
  if (options.warmGames !== undefined) argv.push('--warm-games', String(options.warmGames));
  if (options.udpReads !== undefined) argv.push('--udp-reads', options.udpReads);
  const parsed = parseConfig(argv, {});
  if (!parsed.ok) throw new Error(`bench config: ${parsed.error}`);
  return { config: parsed.config, dataDir, removeDataDir: () => rmSync(dataDir, { recursive: true, force: true }) };
}

export function portCount(range: string): number {
  const match = /^(\d+)-(\d+)$/.exec(range);
  if (!match) throw new Error(`--game-ports must be FIRST-LAST, got ${range}`);
  return Number(match[2]) - Number(match[1]) + 1;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `promise` settled within `ms`; the timer is cleared either way so it cannot hold the process open. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: Timer | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const MB = 1024 * 1024;

/** RSS after letting the workers settle and collecting the main heap; median of a few samples to damp noise. */
export async function settledRss(settleMs: number, samples = 5): Promise<number> {
  await sleep(settleMs);
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    Bun.gc(true);
    values.push(process.memoryUsage().rss);
    await sleep(100);
  }
  return median(values);
}

/** Polls until `done()` or the deadline; returns whether it became true. */
export async function waitFor(done: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}

/** User+system CPU seconds of another process, from /proc (Linux). */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Busy and stolen CPU seconds of the whole machine (/proc/stat), so a run can tell its own CPU from others'.
 * (The load average cannot: 30 Hz timers wake many threads on the same scheduler tick it samples on.)
 */
export function machineCpuSeconds(): { busy: number; steal: number } {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return { busy: (user + nice + system + irq + softirq) / 100, steal: steal / 100 };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

/**
 * Waits until the machine's busy CPU over 3 s (/proc/stat) is under `quietCores`, or `maxWaitMs` has passed;
 * returns the last reading. Tick times are wall clock, so a step should start on a machine nobody else is using.
 * Used by the tick sweeps of bench/hosting.ts and bench/load.ts.
 */
export async function waitForQuietMachine(quietCores = 0.25, maxWaitMs = 90_000): Promise<number> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const before = machineCpuSeconds().busy;
    await sleep(3000);
    const busy = (machineCpuSeconds().busy - before) / 3;
    if (busy < quietCores || performance.now() > deadline) return busy;
  }
}

/** System-wide UDP datagram counters (/proc/net/snmp): a rough check of the packet load, others' traffic included. */
export function udpCounters(): { in: number; out: number } {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = (lines[0] ?? '').split(/\s+/);
    const values = (lines[1] ?? '').split(/\s+/).map(Number);
    return { in: values[names.indexOf('InDatagrams')] ?? NaN, out: values[names.indexOf('OutDatagrams')] ?? NaN };
  } catch {
    return { in: NaN, out: NaN };
  }
}
