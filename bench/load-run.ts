/**
 * One step of the load benchmark (bench/load.ts spawns it, one fresh process per K): a real matchmaker with real
 * game workers in this process, K arena games × 8 bots in a second process (bench/hosting-bots.ts), and, once the
 * measuring window is over, a join-API client in a third (bench/load-join.ts) while the games still play.
 *
 *   bun bench/load-run.ts --k 8 --round-seconds 95 [--seconds 60] [--join-seconds 15] [--join-concurrency 8]
 *       [--game-ports A-B]
 *
 * Prints progress lines, then `RESULT {json}` last. The process must end by itself once the server has stopped;
 * the parent reports a step that does not as a leak (a worker, socket or timer left behind).
 *
 * Where each figure comes from:
 * - tick times: every game's heartbeats (each carries its worker's tick p50/p99/max since the previous one; the
 *   heartbeat interval is 5 s so a heartbeat's p99 leaves out its largest of ~150 ticks);
 * - datagrams: counted at the bots' sockets (load-datagrams.ts). On loopback what a bot sends is what a game
 *   socket is offered and what a bot reads is what a game sent, less the kernel's drops at the receiving socket,
 *   which are read from /proc/net/udp for the game ports and for the bots' ports;
 * - CPU: this process from process.cpuUsage(), split by thread from /proc/self/task (the main thread runs the
 *   matchmaker and its HTTP server; Bun names each game worker's thread "Worker"); the bots' and the join
 *   client's processes from /proc/<pid>/stat; the whole machine from /proc/stat, to tell others' CPU from ours.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Subprocess } from 'bun';
import { startServer, type RunningServer } from '../src/matchmaker/server.ts';
import { median } from '../src/stats/percentile.ts';
import { threadCpuSeconds, threadsNamed } from '../tests/hardening/support/proc.ts';
import {
  benchConfig,
  machineCpuSeconds,
  MB,
  portCount,
  procCpuSeconds,
  ReadyDurationLog,
  settlesWithin,
  sleep,
  TrackingLauncher,
  waitFor,
  type HeartbeatSample,
} from './hosting-common.ts';
import type { DatagramCounts } from './load-datagrams.ts';
import { udpDrops } from './load-datagrams.ts';
import { benchArgs } from './args.ts';
import { forEachLine } from './load-io.ts';

const PLAYERS = 8;
/** The bots' process reports its counters this often; rates use the reports' own timestamps. */
const REPORT_MS = 1000;
/** Heartbeats every 5 s (a quarter of this timeout), as in the hosting tick benchmark. */
const HEARTBEAT_TIMEOUT_MS = 20_000;
const COUNTDOWN_SECONDS = 3;

const { values: flags } = benchArgs({
  command: 'bun bench/load-run.ts',
  summary: 'One step of bench/load.ts (which spawns it): K arena games × 8 bots on a real matchmaker; prints RESULT {json}.',
  flags: {
    k: { type: 'number', integer: true, min: 1, required: true, help: 'live games' },
    seconds: { type: 'number', integer: true, min: 1, default: 60, help: 'measured window' },
    'join-seconds': { type: 'number', integer: true, min: 1, default: 15, help: 'join-API phase' },
    'join-concurrency': { type: 'number', integer: true, min: 1, default: 8, help: 'join requests in flight' },
    'round-seconds': { type: 'number', integer: true, min: 1, required: true, help: 'round length' },
    'game-ports': { type: 'string', required: true, value: 'A-B', help: 'UDP port range for the games' },
  },
});
const k = flags.k;
const seconds = flags.seconds;
const joinSeconds = flags['join-seconds'];
const joinConcurrency = flags['join-concurrency'];
const roundSeconds = flags['round-seconds'];
const gamePorts = flags['game-ports'];
const ports = portCount(gamePorts);
const [firstPort, lastPort] = gamePorts.split('-').map(Number) as [number, number];
const isGamePort = (port: number): boolean => port >= firstPort && port <= lastPort;
const progress = (line: string): void => void process.stdout.write(`  [K=${k}] ${line}\n`);

/** The bots' and the join client's processes while they run, so a step stopped from outside takes them along. */
const children = new Set<Subprocess>();

interface Counters extends DatagramCounts {
  at: number;
  lateP99Ms: number;
  lateMaxMs: number;
}

/** The bots' process, its JSON lines read as they come: the newest counters and every other line. */
function spawnBots(url: string): { proc: Subprocess<'ignore', 'pipe', 'inherit'>; latest: () => Counters | undefined; lines: Record<string, unknown>[]; done: Promise<void>; onCounters: (fn: (c: Counters) => void) => void } {
  const proc = Bun.spawn(
    [process.execPath, new URL('./hosting-bots.ts', import.meta.url).pathname, '--url', url, '--games', String(k), '--players', String(PLAYERS),
      '--timeout', String(roundSeconds + 60 + k), '--report-ms', String(REPORT_MS)],
    { stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' },
  );
  children.add(proc);
  void proc.exited.then(() => children.delete(proc));
  let latest: Counters | undefined;
  let listener: ((c: Counters) => void) | undefined;
  const lines: Record<string, unknown>[] = [];
  const handle = (text: string): void => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return; // not one of ours
    }
    if (line.type === 'counters') {
      latest = line as unknown as Counters;
      listener?.(latest);
    } else lines.push(line);
  };
  const done = forEachLine(proc.stdout, handle).then(async () => void (await proc.exited));
  return { proc, latest: () => latest, lines, done, onCounters: (fn) => (listener = fn) };
}

/**
 * A worker's first seconds of play run partly unoptimised (each worker is its own JSC VM, so every new game pays
 * its own JIT warm-up): heartbeats this long into the window are also summarised apart, as the steady state.
 */
const WARM_MS = 15_000;

/** Per game: median of its heartbeats' p50s, worst heartbeat p99 (all, and once warm) and max, ticks per second. */
function gameTicks(list: readonly HeartbeatSample[], windowStart: number): { p50: number; p99: number; p99Warm: number; max: number; hz: number } {
  // The first heartbeat only marks time for the rate: its ticks ran partly before the window.
  const ticks = list.slice(1).reduce((sum, s) => sum + s.tick.ticks, 0);
  const span = list.length > 1 ? (list.at(-1) as HeartbeatSample).at - (list[0] as HeartbeatSample).at : NaN;
  return {
    p50: median(list.map((s) => s.tick.p50Ms)),
    p99: Math.max(...list.map((s) => s.tick.p99Ms)),
    p99Warm: Math.max(...list.filter((s) => s.at >= windowStart + WARM_MS).map((s) => s.tick.p99Ms)),
    max: Math.max(...list.map((s) => s.tick.maxMs)),
    hz: (ticks / span) * 1000,
  };
}

/** CPU seconds so far of this process, its main thread and the given worker threads. */
function serverCpu(workerTids: readonly number[]): { total: number; main: number; workers: number } {
  const usage = process.cpuUsage();
  return {
    total: (usage.user + usage.system) / 1e6,
    main: threadCpuSeconds(process.pid) ?? NaN,
    workers: workerTids.reduce((sum, tid) => sum + (threadCpuSeconds(tid) ?? 0), 0),
  };
}

/** CPU seconds so far of this process's threads, summed by thread name (Bun's own threads included). */
function cpuByThreadName(): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      byName.set(name, (byName.get(name) ?? 0) + (threadCpuSeconds(Number(tid)) ?? 0));
    } catch {
      // the thread ended while we listed
    }
  }
  return byName;
}

async function createLobby(url: string): Promise<{ gameId: string; passcode: string }> {
  const response = await fetch(new URL('/api/games', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'join-target', maxPlayers: PLAYERS }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { gameId?: string; passcode?: string };
  if (response.status !== 201 || !body.gameId || !body.passcode) throw new Error(`create answered ${response.status}: ${JSON.stringify(body)}`);
  return { gameId: body.gameId, passcode: body.passcode };
}

/** The join client's RESULT line, or why there is none. */
async function runJoinClient(url: string, passcode: string): Promise<Record<string, unknown>> {
  const proc = Bun.spawn(
    [process.execPath, new URL('./load-join.ts', import.meta.url).pathname, '--url', url, '--passcode', passcode,
      '--seconds', String(joinSeconds), '--concurrency', String(joinConcurrency)],
    { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  );
  children.add(proc);
  void proc.exited.then(() => children.delete(proc));
  const killer = setTimeout(() => proc.kill(), (joinSeconds + 30) * 1000);
  try {
    const out = await new Response(proc.stdout).text();
    await proc.exited;
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) return { error: `no result (exit ${proc.exitCode}): ${(await new Response(proc.stderr).text()).slice(-500)}` };
    return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
  } finally {
    clearTimeout(killer);
  }
}

async function step(server: RunningServer, tracking: TrackingLauncher, log: ReadyDurationLog): Promise<Record<string, unknown>> {
  const url = server.localUrl;
  const target = await createLobby(url);
  let phase: 'idle' | 'window' | 'join' = 'idle';
  const windowSamples = new Map<string, HeartbeatSample[]>();
  const joinSamples: HeartbeatSample[] = [];
  tracking.onHeartbeat = (gameId, sample) => {
    if (gameId === target.gameId) return; // the join target idles in its lobby; only the played games count
    if (phase === 'window') {
      const list = windowSamples.get(gameId) ?? [];
      list.push(sample);
      windowSamples.set(gameId, list);
    } else if (phase === 'join') joinSamples.push(sample);
  };

  const bots = spawnBots(url);
  const lateness: Counters[] = [];
  bots.onCounters((c) => {
    if (phase === 'window') lateness.push(c);
  });
  try {
    const inProgress = () => server.registry.snapshot().gamesByState.in_progress;
    let firstStarted: number | undefined;
    const createdAt = performance.now();
    const allStarted = await waitFor(() => {
      if (firstStarted === undefined && inProgress() > 0) firstStarted = performance.now();
      return inProgress() >= k;
    }, 60_000 + k * 1000, 50);
    progress(`${inProgress()}/${k} games started in ${((performance.now() - createdAt) / 1000).toFixed(1)} s`);
    await sleep((COUNTDOWN_SECONDS + 1.5) * 1000);

    // The window: play only, nothing else asked of the server.
    const windowStart = performance.now();
    // Every round must still be playing at the end of the join phase; the earliest round bounds the window.
    const roundsEnd = (firstStarted ?? windowStart) + (COUNTDOWN_SECONDS + roundSeconds) * 1000;
    const windowEnd = Math.min(windowStart + seconds * 1000, roundsEnd - (joinSeconds + 3) * 1000);
    phase = 'window';
    const workerTids = [...threadsNamed('Worker')];
    const cpu0 = serverCpu(workerTids);
    const threads0 = cpuByThreadName();
    const botCpu0 = procCpuSeconds(bots.proc.pid);
    const machine0 = machineCpuSeconds();
    const gameDrops0 = udpDrops(isGamePort);
    const counters0 = bots.latest();
    const rss: number[] = [];
    const players: number[] = [];
    const playing: number[] = [];
    while (performance.now() < windowEnd) {
      await sleep(Math.min(1000, Math.max(0, windowEnd - performance.now())));
      rss.push(process.memoryUsage().rss);
      const snap = server.registry.snapshot();
      players.push(snap.playersConnected);
      playing.push(snap.gamesByState.in_progress);
    }
    phase = 'idle';
    const wall = (performance.now() - windowStart) / 1000;
    const cpu1 = serverCpu(workerTids);
    const threads1 = cpuByThreadName();
    const botCpu = procCpuSeconds(bots.proc.pid) - botCpu0;
    const machine1 = machineCpuSeconds();
    const gameDrops = udpDrops(isGamePort) - gameDrops0;
    const counters1 = bots.latest();
    const serverCores = (cpu1.total - cpu0.total) / wall;
    progress(`window ${wall.toFixed(1)} s: server ${serverCores.toFixed(2)} cores, bots ${(botCpu / wall).toFixed(2)} cores`);

    // The join phase: the same games keep playing while a third process hammers the join route.
    phase = 'join';
    const joinStart = performance.now();
    const joinCpu0 = serverCpu(workerTids);
    const joinBotCpu0 = procCpuSeconds(bots.proc.pid);
    const join = await runJoinClient(url, target.passcode);
    const joinWall = (performance.now() - joinStart) / 1000;
    const joinCpu1 = serverCpu(workerTids);
    const joinBotCpu = procCpuSeconds(bots.proc.pid) - joinBotCpu0;
    phase = 'idle';
    // Heartbeats that arrived 5 s or more into the join phase cover only ticks run during it.
    const joinTicks = joinSamples.filter((s) => s.at >= joinStart + 5000).map((s) => s.tick.p99Ms);
    progress(`join: ${JSON.stringify(join)}`);

    const perGame = [...windowSamples.values()].map((list) => gameTicks(list, windowStart));
    const bySocketSeconds = counters0 && counters1 ? (counters1.at - counters0.at) / 1000 : NaN;
    const delta = (key: 'sent' | 'received' | 'sendFailed' | 'drops'): number => (counters0 && counters1 ? counters1[key] - counters0[key] : NaN);
    const others = (machine1.busy - machine0.busy - (cpu1.total - cpu0.total) - botCpu) / wall;

    // Let the rounds end and the bots collect their results; then end the join target, and all must be released.
    const roundsOver = await settlesWithin(bots.done, (roundSeconds + 90 + k) * 1000);
    await tracking.stopGame(target.gameId);
    const released = await waitFor(() => server.registry.live === 0, 15_000, 100);
    const leaks: string[] = [];
    if (server.registry.live !== 0) leaks.push(`registry.live = ${server.registry.live}`);
    if (server.registry.freePorts !== ports) leaks.push(`free ports ${server.registry.freePorts} of ${ports}`);
    if (tracking.running !== 0) leaks.push(`${tracking.running} workers still running`);
    const done = bots.lines.find((l) => l.type === 'done') ?? null;
    return {
      k,
      players: PLAYERS,
      allStarted,
      windowSeconds: wall,
      gamesMeasured: perGame.length,
      tickP50Median: median(perGame.map((g) => g.p50)),
      tickP99Median: median(perGame.map((g) => g.p99)),
      tickP99Worst: Math.max(...perGame.map((g) => g.p99)),
      tickP99WarmMedian: median(perGame.map((g) => g.p99Warm)),
      tickP99WarmWorst: Math.max(...perGame.map((g) => g.p99Warm)),
      tickMaxWorst: Math.max(...perGame.map((g) => g.max)),
      hzMedian: median(perGame.map((g) => g.hz)),
      hzWorst: Math.min(...perGame.map((g) => g.hz)),
      slowGames: perGame.filter((g) => g.p99 > 10).length,
      playersMin: Math.min(...players),
      playingMin: Math.min(...playing),
      serverCores,
      mainThreadCores: (cpu1.main - cpu0.main) / wall,
      workerThreadsCores: (cpu1.workers - cpu0.workers) / wall,
      workerThreads: workerTids.length,
      // Cores by thread name over the window (the main thread is named after the process, usually "bun").
      threadCores: Object.fromEntries([...threads1].map(([name, cpu]) => [name, Number(((cpu - (threads0.get(name) ?? 0)) / wall).toFixed(4))]).filter(([, c]) => Number(c) > 0)),
      botCores: botCpu / wall,
      othersCores: others,
      stealCores: (machine1.steal - machine0.steal) / wall,
      rssMb: median(rss) / MB,
      // Server in = what the bots sent; server out = what the bots read (+ drops at the bots' sockets).
      botsSentPerSecond: delta('sent') / bySocketSeconds,
      botsReceivedPerSecond: delta('received') / bySocketSeconds,
      botSendFailures: delta('sendFailed'),
      dropsAtGames: gameDrops,
      dropsAtBots: delta('drops'),
      countersSeconds: bySocketSeconds,
      botsLateP99Ms: median(lateness.map((c) => c.lateP99Ms)),
      botsLateMaxMs: Math.max(0, ...lateness.map((c) => c.lateMaxMs)),
      join,
      joinSeconds: joinWall,
      joinServerCores: (joinCpu1.total - joinCpu0.total) / joinWall,
      joinMainThreadCores: (joinCpu1.main - joinCpu0.main) / joinWall,
      joinBotCores: joinBotCpu / joinWall,
      joinTickP99Worst: joinTicks.length ? Math.max(...joinTicks) : null,
      joinTickP99Median: joinTicks.length ? median(joinTicks) : null,
      bots: done,
      roundsOver,
      released,
      leaks,
      problems: log.problems.slice(0, 5),
      loadavg: loadavg()[0],
    };
  } finally {
    phase = 'idle';
    if (bots.proc.exitCode === null) bots.proc.kill();
    await bots.proc.exited;
  }
}

const { config, removeDataDir } = benchConfig({ gamePorts, maxGames: Math.min(ports, k + 1), maxPlayers: PLAYERS, roundSeconds, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS });
process.once('SIGTERM', () => {
  // Stopped from outside (bench/load.ts at --until): take the other processes and the data directory along.
  for (const child of children) child.kill();
  removeDataDir();
  process.exit(143);
});
const tracking = new TrackingLauncher();
const log = new ReadyDurationLog();
const server = await startServer({ config, launcher: tracking, log });
let result: Record<string, unknown>;
try {
  result = await step(server, tracking, log);
} finally {
  await server.stop('benchmark over');
  removeDataDir();
}
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
