/**
 * One step of the load benchmark (bench/load.ts spawns it, one fresh process per K): a real matchmaker with real
 * game workers in this process, K arena games × 8 bots in a second process (bench/hosting-bots.ts), and, once the
 * measuring window is over, a join-API client in a third (bench/load-join.ts) while the games still play.
 *
 *   bun bench/load-run.ts --k 8 --round-seconds 95 [--seconds 60] [--join-seconds 15] [--join-concurrency 8]
 *       [--creates 60] [--game-ports A-B] [--worker-entry FILE] [--pin-bots CPU]
 *
 * Prints progress lines, then `RESULT {json}` last. The process must end by itself once the server has stopped;
 * the parent reports a step that does not as a leak (a worker, socket or timer left behind).
 *
 * Where each figure comes from:
 * - tick lateness and work: every game's heartbeats at the product's default interval (750 ms). Each carries its
 *   ticks' counts in fixed buckets (src/contract/tick-buckets.ts) and the exact max; a game's p50/p99 over the
 *   window is taken from its heartbeats' counts added up (the upper edge of the bucket: "≤ 2 ms"), its max exact;
 * - snapshot gaps: every bot's own recorder (src/game/snapshot-gaps.ts), windowed through the bots' stdin;
 * - create → ready with the K games live: after the window, --creates games created one after another
 *   (`POST /api/games` until its 201, then ended and its exit awaited) while the K games play;
 * - RSS per playing game: (median RSS over the window − the server's settled RSS before any game) / K;
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
import { median, percentileOfSorted } from '../src/stats/percentile.ts';
import { bucketPercentile } from '../src/contract/tick-buckets.ts';
import type { SnapshotGapSummary } from '../src/game/snapshot-gaps.ts';
import { BunWorkerLauncher } from '../src/workers/launcher.ts';
import { threadCpuSeconds, threadsNamed } from '../tests/hardening/support/proc.ts';
import {
  benchConfig,
  machineCpuSeconds,
  MB,
  portCount,
  procCpuSeconds,
  ReadyDurationLog,
  settledRss,
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
/** The goals, for counting games and players past them (bench/load.ts decides what held). */
const LATE_GOAL_MS = 2;
const GAP_GOAL_MS = 60;
/** Seconds the create phase may take: a create and a stop each take tens of ms; generous. */
const createSecondsFor = (n: number, gapMs: number): number => Math.ceil(n * (0.2 + gapMs / 1000));
/** The bots' process reports its counters this often; rates use the reports' own timestamps. */
const REPORT_MS = 1000;
const COUNTDOWN_SECONDS = 3;

const { values: flags } = benchArgs({
  command: 'bun bench/load-run.ts',
  summary: 'One step of bench/load.ts (which spawns it): K arena games × 8 bots on a real matchmaker; prints RESULT {json}.',
  flags: {
    k: { type: 'number', integer: true, min: 1, required: true, help: 'live games' },
    seconds: { type: 'number', integer: true, min: 1, default: 60, help: 'measured window' },
    'join-seconds': { type: 'number', integer: true, min: 0, default: 15, help: 'join-API phase; 0: none' },
    'join-concurrency': { type: 'number', integer: true, min: 1, default: 8, help: 'join requests in flight' },
    'round-seconds': { type: 'number', integer: true, min: 1, required: true, help: 'round length' },
    'game-ports': { type: 'string', required: true, value: 'A-B', help: 'UDP port range for the games' },
    creates: { type: 'number', integer: true, min: 0, default: 0, help: 'create → ready samples while the K games play' },
    'create-gap-ms': { type: 'number', integer: true, min: 0, default: 0, help: 'pause after each sample game has ended, before the next create' },
    'warm-games': { type: 'number', integer: true, min: 0, default: 1, help: "the server's --warm-games (1, the product's default)" },
    'worker-entry': { type: 'string', default: '', value: 'file', help: 'the game worker as one bundled file (as the binary); default: source' },
    'udp-reads': { type: 'string', default: 'wakes', value: 'wakes|each', help: "the server's --udp-reads (wakes, the product's default)" },
    'bot-udp-reads': { type: 'string', default: 'wakes', choices: ['wakes', 'each'], help: "how the bots read their sockets (wakes, huddle bot's default)" },
    'heartbeat-timeout-ms': { type: 'number', integer: true, min: 0, default: 0, help: "diagnostic: the server's --heartbeat-timeout-ms; 0: the product's default" },
    'pin-bots': { type: 'string', default: '', value: 'cpu list', help: "run the bots' and the join client's processes under taskset -c on these CPUs" },
    'bots-nice': { type: 'number', integer: true, min: 0, max: 19, default: 0, help: "run the bots' and the join client's processes under nice -n N" },
  },
});
const creates = flags.creates;
const createGapMs = flags['create-gap-ms'];
const workerEntry = flags['worker-entry'];
const udpReadsFlag = flags['udp-reads'];
if (udpReadsFlag !== 'wakes' && udpReadsFlag !== 'each') throw new Error(`--udp-reads: expected wakes or each, got ${udpReadsFlag}`);
const udpReads: 'wakes' | 'each' = udpReadsFlag;
const pinBots = flags['pin-bots'];
const botsNice = flags['bots-nice'];
/**
 * Prefix for the other processes: pinned to their own CPUs with --pin-bots (this process was pinned by its
 * parent), and under nice with --bots-nice.
 */
const pinned = (argv: string[]): string[] => [
  ...(botsNice ? ['nice', '-n', String(botsNice)] : []),
  ...(pinBots ? ['taskset', '-c', pinBots] : []),
  ...argv,
];
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
function spawnBots(url: string): {
  proc: Subprocess<'pipe', 'pipe', 'inherit'>;
  latest: () => Counters | undefined;
  lines: Record<string, unknown>[];
  done: Promise<void>;
  onCounters: (fn: (c: Counters) => void) => void;
  /** Tells every bot to start a new gap window, or asks for the window's gaps. */
  command: (line: 'window-start' | 'window-end') => void;
  nextGaps: () => Promise<SnapshotGapSummary[]>;
} {
  const proc = Bun.spawn(
    pinned([process.execPath, new URL('./hosting-bots.ts', import.meta.url).pathname, '--url', url, '--games', String(k), '--players', String(PLAYERS),
      '--timeout', String(roundSeconds + 60 + k), '--report-ms', String(REPORT_MS), '--udp-reads', flags['bot-udp-reads']]),
    { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' },
  );
  children.add(proc);
  void proc.exited.then(() => children.delete(proc));
  let latest: Counters | undefined;
  let listener: ((c: Counters) => void) | undefined;
  let gapsWaiter: PromiseWithResolvers<SnapshotGapSummary[]> | undefined;
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
    } else if (line.type === 'gaps') gapsWaiter?.resolve(line.players as SnapshotGapSummary[]);
    else lines.push(line);
  };
  const done = forEachLine(proc.stdout, handle).then(async () => void (await proc.exited));
  return {
    proc,
    latest: () => latest,
    lines,
    done,
    onCounters: (fn) => (listener = fn),
    command: (line) => {
      proc.stdin.write(`${line}\n`);
      void proc.stdin.flush();
    },
    nextGaps: () => (gapsWaiter = Promise.withResolvers<SnapshotGapSummary[]>()).promise,
  };
}

/**
 * A worker's first seconds of play run partly unoptimised (each worker is its own JSC VM, so every new game pays
 * its own JIT warm-up): heartbeats this long into the window are also summarised apart, as the steady state.
 */
const WARM_MS = 15_000;

interface GameFigures {
  lateP50: number;
  lateP99: number;
  lateP99Warm: number;
  lateMax: number;
  workP50: number;
  workP99: number;
  workMax: number;
  ticks: number;
  missed: number;
  datagrams: number;
  hz: number;
  datagramsPerSecond: number;
}

const addCounts = (into: number[], counts: readonly number[]): number[] => counts.map((c, i) => c + (into[i] ?? 0));

/** One game over the window, from its heartbeats' bucket counts added up (the first only marks time). */
function gameTicks(list: readonly HeartbeatSample[], windowStart: number): GameFigures {
  const counted = list.slice(1);
  let late: number[] = [];
  let lateWarm: number[] = [];
  let work: number[] = [];
  for (const s of counted) {
    late = addCounts(late, s.tick.lateness.counts);
    work = addCounts(work, s.tick.work.counts);
    if (s.at >= windowStart + WARM_MS) lateWarm = addCounts(lateWarm, s.tick.lateness.counts);
  }
  const ticks = counted.reduce((sum, s) => sum + s.tick.ticks, 0);
  const lateMax = Math.max(...counted.map((s) => s.tick.lateness.maxMs));
  const workMax = Math.max(...counted.map((s) => s.tick.work.maxMs));
  const span = list.length > 1 ? (list.at(-1) as HeartbeatSample).at - (list[0] as HeartbeatSample).at : NaN;
  return {
    lateP50: bounded(bucketPercentile(late, 50), lateMax),
    lateP99: bounded(bucketPercentile(late, 99), lateMax),
    lateP99Warm: bounded(bucketPercentile(lateWarm, 99), lateMax),
    lateMax,
    workP50: bounded(bucketPercentile(work, 50), workMax),
    workP99: bounded(bucketPercentile(work, 99), workMax),
    workMax,
    ticks,
    missed: counted.reduce((sum, s) => sum + s.tick.missed, 0),
    datagrams: counted.reduce((sum, s) => sum + s.tick.datagrams, 0),
    hz: (ticks / span) * 1000,
    datagramsPerSecond: (counted.reduce((sum, s) => sum + s.tick.datagrams, 0) / span) * 1000,
  };
}

/** A bucket percentile past the last edge (> 100 ms) is bounded by the exact max instead of Infinity. */
const bounded = (p: number, max: number): number => (p === Infinity ? max : p);

/** Worst (largest) and median of one figure across games or players. */
function spread(values: readonly number[]): { worst: number; median: number } {
  const finite = values.filter((v) => !Number.isNaN(v));
  return { worst: finite.length ? Math.max(...finite) : NaN, median: median(finite) };
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

/**
 * Seconds the given threads of a process spent runnable but waiting for a CPU (the scheduler's run-queue wait,
 * /proc/<pid>/task/<tid>/schedstat field 2), and how many times they were switched in. A game tick that is late
 * while its thread waited in the run queue was preempted by other threads, not slowed by its own work.
 */
function runQueueWait(pid: number | 'self', tids?: readonly number[]): { waitSeconds: number; slices: number } {
  let waitNs = 0;
  let slices = 0;
  let list: readonly (number | string)[] = tids ?? [];
  if (!tids) {
    try {
      list = readdirSync(`/proc/${pid}/task`);
    } catch {
      return { waitSeconds: NaN, slices: NaN };
    }
  }
  for (const tid of list) {
    try {
      const [, wait, n] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      waitNs += wait ?? 0;
      slices += n ?? 0;
    } catch {
      // the thread ended
    }
  }
  return { waitSeconds: waitNs / 1e9, slices };
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
    pinned([process.execPath, new URL('./load-join.ts', import.meta.url).pathname, '--url', url, '--passcode', passcode,
      '--seconds', String(joinSeconds), '--concurrency', String(joinConcurrency)]),
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
  // The join phase's target: an open lobby nobody connects to (none without a join phase).
  const target = joinSeconds > 0 ? await createLobby(url) : undefined;
  // The server (and the idle target) before any played game, for RSS per playing game.
  const rssBaseline = await settledRss(2000);
  let phase: 'idle' | 'window' | 'create' | 'join' = 'idle';
  const windowSamples = new Map<string, HeartbeatSample[]>();
  const joinSamples: HeartbeatSample[] = [];
  tracking.onHeartbeat = (gameId, sample) => {
    if (gameId === target?.gameId) return; // the join target idles in its lobby; only the played games count
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
    const windowEnd = Math.min(windowStart + seconds * 1000, roundsEnd - (joinSeconds + createSecondsFor(creates, createGapMs) + 3) * 1000);
    phase = 'window';
    bots.command('window-start');
    // bench/load.ts --gc-log times the window's GC lines (this process's stderr) by these two lines.
    progress('window start');
    const workerTids = [...threadsNamed('Worker')];
    const cpu0 = serverCpu(workerTids);
    const threads0 = cpuByThreadName();
    const workerWait0 = runQueueWait('self', workerTids);
    const botWait0 = runQueueWait(bots.proc.pid);
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
    const gapsAnswer = bots.nextGaps();
    bots.command('window-end');
    progress('window end');
    const wall = (performance.now() - windowStart) / 1000;
    const cpu1 = serverCpu(workerTids);
    const threads1 = cpuByThreadName();
    const workerWait1 = runQueueWait('self', workerTids);
    const botWait1 = runQueueWait(bots.proc.pid);
    const botCpu = procCpuSeconds(bots.proc.pid) - botCpu0;
    const machine1 = machineCpuSeconds();
    const gameDrops = udpDrops(isGamePort) - gameDrops0;
    const counters1 = bots.latest();
    const serverCores = (cpu1.total - cpu0.total) / wall;
    progress(`window ${wall.toFixed(1)} s: server ${serverCores.toFixed(2)} cores, bots ${(botCpu / wall).toFixed(2)} cores`);
    const gaps = (await Promise.race([gapsAnswer, sleep(10_000).then(() => [] as SnapshotGapSummary[])])).filter((g) => g.gaps > 0);

    // Create → ready while the K games play: one create at a time, each ended before the next.
    phase = 'create';
    const createMs: number[] = [];
    for (let i = 0; i < creates; i++) {
      const started = performance.now();
      const lobby = await createLobby(url);
      createMs.push(performance.now() - started);
      await tracking.stopGame(lobby.gameId);
      if (createGapMs > 0) await sleep(createGapMs);
    }
    createMs.sort((a, b) => a - b);
    if (creates > 0) progress(`create → ready with ${k} games live: p50 ${percentileOfSorted(createMs, 50).toFixed(1)} ms, p99 ${percentileOfSorted(createMs, 99).toFixed(1)} ms`);

    // The join phase: the same games keep playing while a third process hammers the join route.
    phase = 'join';
    const joinStart = performance.now();
    const joinCpu0 = serverCpu(workerTids);
    const joinBotCpu0 = procCpuSeconds(bots.proc.pid);
    const join = target ? await runJoinClient(url, target.passcode) : { skipped: true };
    const joinWall = (performance.now() - joinStart) / 1000;
    const joinCpu1 = serverCpu(workerTids);
    const joinBotCpu = procCpuSeconds(bots.proc.pid) - joinBotCpu0;
    phase = 'idle';
    // Heartbeats that arrived 1 s or more into the join phase cover only ticks run during it; all games together.
    const joinCounts = joinSamples.filter((s) => s.at >= joinStart + 1000).reduce((sum: number[], s) => addCounts(sum, s.tick.lateness.counts), []);
    if (target) progress(`join: ${JSON.stringify(join)}`);

    const perGame = [...windowSamples.values()].map((list) => gameTicks(list, windowStart));
    const bySocketSeconds = counters0 && counters1 ? (counters1.at - counters0.at) / 1000 : NaN;
    const delta = (key: 'sent' | 'received' | 'sendFailed' | 'drops'): number => (counters0 && counters1 ? counters1[key] - counters0[key] : NaN);
    const others = (machine1.busy - machine0.busy - (cpu1.total - cpu0.total) - botCpu) / wall;

    // Let the rounds end and the bots collect their results; then end the join target, and all must be released.
    const roundsOver = await settlesWithin(bots.done, (roundSeconds + 90 + k) * 1000);
    if (target) await tracking.stopGame(target.gameId);
    const released = await waitFor(() => server.registry.live === 0, 15_000, 100);
    const leaks: string[] = [];
    if (server.registry.live !== 0) leaks.push(`registry.live = ${server.registry.live}`);
    // The warm games (--warm-games) hold a port and a worker each until the server stops.
    const warm = server.registry.warmStats?.held ?? 0;
    if (server.registry.freePorts !== ports - warm) leaks.push(`free ports ${server.registry.freePorts} of ${ports}, ${warm} warm`);
    if (tracking.running !== warm) leaks.push(`${tracking.running} workers still running, ${warm} warm`);
    const done = bots.lines.find((l) => l.type === 'done') ?? null;
    return {
      k,
      players: PLAYERS,
      allStarted,
      windowSeconds: wall,
      gamesMeasured: perGame.length,
      // Tick lateness and work, ms: per game over the window (bucket upper edges for p50/p99, exact max).
      lateP50: spread(perGame.map((g) => g.lateP50)),
      lateP99: spread(perGame.map((g) => g.lateP99)),
      lateP99Warm: spread(perGame.map((g) => g.lateP99Warm)),
      lateMax: spread(perGame.map((g) => g.lateMax)),
      workP50: spread(perGame.map((g) => g.workP50)),
      workP99: spread(perGame.map((g) => g.workP99)),
      workMax: spread(perGame.map((g) => g.workMax)),
      lateGames: perGame.filter((g) => !(g.lateP99 <= LATE_GOAL_MS)).length,
      missedTicks: perGame.reduce((sum, g) => sum + g.missed, 0),
      datagramsPerGamePerSecond: median(perGame.map((g) => g.datagramsPerSecond)),
      hzMedian: median(perGame.map((g) => g.hz)),
      hzWorst: Math.min(...perGame.map((g) => g.hz)),
      // Snapshot gaps, ms, per player over the window: the worst player's and the median player's.
      playersWithGaps: gaps.length,
      gapP99: spread(gaps.map((g) => g.p99Ms)),
      gapMax: spread(gaps.map((g) => g.maxMs)),
      gapP50Median: median(gaps.map((g) => g.p50Ms)),
      stutteringPlayers: gaps.filter((g) => !(g.p99Ms <= GAP_GOAL_MS)).length,
      creates: createMs.length,
      createP50Ms: createMs.length ? percentileOfSorted(createMs, 50) : null,
      createP99Ms: createMs.length ? percentileOfSorted(createMs, 99) : null,
      createMaxMs: createMs.length ? createMs.at(-1) : null,
      playersMin: Math.min(...players),
      playingMin: Math.min(...playing),
      serverCores,
      mainThreadCores: (cpu1.main - cpu0.main) / wall,
      workerThreadsCores: (cpu1.workers - cpu0.workers) / wall,
      workerThreads: workerTids.length,
      // Cores by thread name over the window (the main thread is named after the process, usually "bun").
      threadCores: Object.fromEntries([...threads1].map(([name, cpu]) => [name, Number(((cpu - (threads0.get(name) ?? 0)) / wall).toFixed(4))]).filter(([, c]) => Number(c) > 0)),
      botCores: botCpu / wall,
      // Run-queue wait (runnable, no CPU free) in cores: the game workers' threads summed, the bots' process.
      workerRunQueueCores: (workerWait1.waitSeconds - workerWait0.waitSeconds) / wall,
      workerSwitchesPerSecond: (workerWait1.slices - workerWait0.slices) / wall,
      botRunQueueCores: (botWait1.waitSeconds - botWait0.waitSeconds) / wall,
      othersCores: others,
      stealCores: (machine1.steal - machine0.steal) / wall,
      rssMb: median(rss) / MB,
      rssBaselineMb: rssBaseline / MB,
      rssPerGameMb: (median(rss) - rssBaseline) / MB / k,
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
      joinLateP99AllGames: target ? bucketPercentile(joinCounts, 99) : null,
      joinLateMax: target ? Math.max(0, ...joinSamples.map((s) => s.tick.lateness.maxMs)) : null,
      // Each bot's whole-session gaps, summarised (the window's are above).
      bots: done ? { ...done, sessionGaps: undefined, sessionGapP99Worst: spread(((done.sessionGaps ?? []) as (SnapshotGapSummary | null)[]).map((g) => g?.p99Ms ?? NaN)).worst } : null,
      roundsOver,
      released,
      leaks,
      problems: log.problems.slice(0, 5),
      loadavg: loadavg().map((l) => Number(l.toFixed(2))),
      pinnedBots: pinBots || null,
      botsNice,
      worker: workerEntry ? 'bundled' : 'source',
      heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    };
  } finally {
    phase = 'idle';
    if (bots.proc.exitCode === null) bots.proc.kill();
    await bots.proc.exited;
  }
}

// The product's default heartbeat interval (config's timeout / 4 = 750 ms) and logging (ReadyDurationLog: JSON to /dev/null).
const heartbeatTimeoutMs = flags['heartbeat-timeout-ms'] || undefined;
const { config, removeDataDir } = benchConfig({ gamePorts, maxGames: Math.min(ports, k + 2), maxPlayers: PLAYERS, roundSeconds, warmGames: flags['warm-games'], udpReads, ...(heartbeatTimeoutMs ? { heartbeatTimeoutMs } : {}) });
process.once('SIGTERM', () => {
  // Stopped from outside (bench/load.ts at --until): take the other processes and the data directory along.
  for (const child of children) child.kill();
  removeDataDir();
  process.exit(143);
});
// A bundled entry is the game worker itself, so it reads the launcher's socket as the product's entry does.
const tracking = new TrackingLauncher(new BunWorkerLauncher(workerEntry ? { entry: workerEntry, warm: true, udpReads } : { udpReads }));
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
