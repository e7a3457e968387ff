/**
 * One run of one hosting benchmark, in a fresh process so every run starts from the same memory and the first
 * worker's extra start cost is paid once per run, as it would be by a real server. bench/hosting.ts spawns it
 * and reads the last stdout line, `RESULT {json}`. The process must end on its own once the server is stopped:
 * the parent reports a run that does not as a leak (a worker, socket or timer left behind).
 *
 *   bun bench/hosting-run.ts latency --games 200 [--worker-entry bundled.js] [--game-ports A-B]
 *   bun bench/hosting-run.ts rss --n 10 [--worker-entry bundled.js] [--game-ports A-B]
 *   bun bench/hosting-run.ts tick --k 50 [--round-seconds 45] [--window 20] [--game-ports A-B]
 *   bun bench/hosting-run.ts probe --n 50 --variant empty|typebox|simd|libsodium|noble|sodium|modules|udp [--no-smol]
 */
import { loadavg } from 'node:os';
import { startServer, type RunningServer } from '../src/matchmaker/server.ts';
import { median, percentile } from '../src/stats/percentile.ts';
import { BunWorkerLauncher } from '../src/workers/launcher.ts';
import {
  benchConfig,
  DEFAULT_GAME_PORTS,
  machineCpuSeconds,
  MB,
  portCount,
  procCpuSeconds,
  ReadyDurationLog,
  settledRss,
  settlesWithin,
  sleep,
  TrackingLauncher,
  udpCounters,
  waitFor,
  type HeartbeatSample,
} from './hosting-common.ts';
import { benchArgs, usageError } from './args.ts';

const COMMAND = 'bun bench/hosting-run.ts';
const { values: flags, positionals } = benchArgs({
  command: COMMAND,
  positionals: 'latency|rss|tick|probe',
  summary: 'One run of one hosting benchmark in a fresh process (bench/hosting.ts spawns it); prints RESULT {json}.',
  flags: {
    games: { type: 'number', integer: true, min: 0, default: 200, help: 'latency: games created one after another' },
    n: { type: 'number', integer: true, min: 0, help: 'rss, probe: workers to start (required there)' },
    k: { type: 'number', integer: true, min: 0, help: 'tick: live 4-bot games (required there)' },
    'round-seconds': { type: 'number', integer: true, min: 0, default: 45, help: 'tick: round length' },
    window: { type: 'number', integer: true, min: 0, default: 20, help: 'tick: measured window, s' },
    variant: { type: 'string', help: 'probe: empty|typebox|simd|libsodium|noble|sodium|modules|udp (required there)' },
    'no-smol': { type: 'boolean', help: 'probe: workers without smol' },
    'worker-entry': { type: 'string', value: 'file', help: 'the worker as one pre-built file instead of the sources' },
    'game-ports': { type: 'string', default: DEFAULT_GAME_PORTS, value: 'A-B', help: 'UDP port range for the games' },
    'warm-games': { type: 'number', integer: true, min: 0, default: 1, help: "the server's --warm-games (1, the product's default; 0: every game starts cold)" },
    'gap-ms': { type: 'number', integer: true, min: 0, default: 0, help: 'latency: pause after each game has ended, before the next create' },
  },
});

/** A flag only some parts need: one line and exit 2 when the part runs without it. */
function required<T>(name: string, value: T | undefined): T {
  if (value === undefined) usageError(COMMAND, `--${name} is required here`);
  return value;
}

const part = positionals[0];
if (positionals.length > 1) usageError(COMMAND, `one part at a time, got ${positionals.join(' ')}`);
/**
 * The worker as one pre-built file (bench/hosting.ts bundles it, as the compiled binary embeds it) instead of
 * ~270 source modules. Built by the parent so the bundler's memory is not in this process's RSS baseline.
 */
const workerEntry = flags['worker-entry'];
const gamePorts = flags['game-ports'];
const ports = portCount(gamePorts);

interface Created {
  gameId: string;
  ms: number;
}

async function createGame(server: RunningServer, name: string): Promise<Created> {
  const started = performance.now();
  const response = await fetch(`${server.localUrl}/api/games`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { gameId?: string; error?: { message?: string } };
  const ms = performance.now() - started;
  if (response.status !== 201 || typeof body.gameId !== 'string') {
    throw new Error(`create answered ${response.status}: ${body.error?.message ?? JSON.stringify(body)}`);
  }
  return { gameId: body.gameId, ms };
}

/**
 * Everything the registry holds must be back: no live game, every port free, no worker left, but for the warm
 * games (--warm-games), which hold a port and a worker each until the server stops.
 */
function leakCheck(server: RunningServer, tracking: TrackingLauncher): string[] {
  const problems: string[] = [];
  const warm = server.registry.warmStats?.held ?? 0;
  if (server.registry.live !== 0) problems.push(`registry.live = ${server.registry.live}`);
  if (server.registry.freePorts !== ports - warm) problems.push(`free ports ${server.registry.freePorts} of ${ports}, ${warm} warm`);
  if (tracking.running !== warm) problems.push(`${tracking.running} workers still running, ${warm} warm`);
  const { gamesByState } = server.registry.snapshot();
  for (const [state, count] of Object.entries(gamesByState)) if (count !== 0) problems.push(`${count} live games in ${state}`);
  return problems;
}

async function withServer<T>(
  options: { maxGames: number; roundSeconds?: number; heartbeatTimeoutMs?: number },
  body: (server: RunningServer, tracking: TrackingLauncher, log: ReadyDurationLog) => Promise<T>,
): Promise<T> {
  const { config, removeDataDir } = benchConfig({ gamePorts, warmGames: flags['warm-games'], ...options });
  const tracking = new TrackingLauncher(new BunWorkerLauncher(workerEntry ? { entry: workerEntry, warm: true, udpReads: 'wakes' } : {}));
  const log = new ReadyDurationLog();
  const server = await startServer({ config, launcher: tracking, log });
  try {
    // The warm games the server starts when it listens are standing by before the first sample, as on a server
    // that has been up for a while.
    const deadline = performance.now() + 10_000;
    while ((server.registry.warmStats?.standingBy ?? 0) < config.warmGames && performance.now() < deadline) await Bun.sleep(5);
    return await body(server, tracking, log);
  } finally {
    await server.stop('benchmark over');
    removeDataDir();
  }
}

async function latency(): Promise<object> {
  const games = flags.games;
  return withServer({ maxGames: ports }, async (server, tracking, log) => {
    const createMs: number[] = [];
    const stopMs: number[] = [];
    for (let i = 0; i < games; i++) {
      const { gameId, ms } = await createGame(server, `bench${i}`);
      createMs.push(ms);
      const stopStarted = performance.now();
      await tracking.stopGame(gameId);
      stopMs.push(performance.now() - stopStarted);
      if (flags['gap-ms'] > 0) await Bun.sleep(flags['gap-ms']);
    }
    const leaks = leakCheck(server, tracking);
    return {
      games,
      createP50: percentile(createMs, 50),
      createP99: percentile(createMs, 99),
      createMax: Math.max(...createMs),
      createFirst: createMs[0],
      readyP50: percentile(log.readyMs, 50),
      readyP99: percentile(log.readyMs, 99),
      readyCount: log.readyMs.length,
      stopP50: percentile(stopMs, 50),
      warm: server.registry.warmStats ?? null,
      leaks,
      problems: log.problems.slice(0, 5),
      loadavg: loadavg()[0],
    };
  });
}

/** This process's CPU (every thread: the workers are threads of it) in ms per second over a window of `ms`. */
async function cpuMsPerSecond(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const started = performance.now();
  await Bun.sleep(ms);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / ((performance.now() - started) / 1000);
}

async function rss(): Promise<object> {
  const n = required('n', flags.n);
  return withServer({ maxGames: Math.min(ports, Math.max(n, 1)) }, async (server, tracking, log) => {
    // The server alone, after the same settle the games get: the HTTP stack, the store and the registry.
    const baseline = await settledRss(1500);
    const cpuAlone = await cpuMsPerSecond(3000);
    const before = process.memoryUsage();
    for (let i = 0; i < n; i++) await createGame(server, `idle${i}`);
    const withGames = await settledRss(3000);
    const after = process.memoryUsage();
    // What the lobbies cost while nobody is in them (their loops' wakes: IDLE_UPDATE_SECONDS in session.ts), over
    // the server alone's CPU in a window as long, before they were made.
    const cpuWith = await cpuMsPerSecond(3000);
    const live = server.registry.snapshot().gamesByState.lobby;
    const perWorkerMb = (withGames - baseline) / MB / n;
    return {
      n,
      live,
      baselineMb: baseline / MB,
      withGamesMb: withGames / MB,
      perWorkerMb,
      mainHeapDeltaMb: (after.heapUsed - before.heapUsed) / MB,
      idleCpuMsPerLobby: (cpuWith - cpuAlone) / n,
      running: tracking.running,
      problems: log.problems.slice(0, 5),
      loadavg: loadavg()[0],
    };
  });
}

async function tick(): Promise<object> {
  const k = required('k', flags.k);
  const roundSeconds = flags['round-seconds'];
  const windowSeconds = flags.window;
  const countdownSeconds = 3;
  // Heartbeats every 5 s (a quarter of this timeout) carry ~150 ticks each, so a heartbeat's p99 leaves out its
  // largest tick instead of being the max, as it is with the default 750 ms interval (~22 ticks).
  const heartbeatTimeoutMs = 20_000;
  return withServer({ maxGames: Math.min(ports, k + 8), roundSeconds, heartbeatTimeoutMs }, async (server, tracking, log) => {
    const samples = new Map<string, HeartbeatSample[]>();
    let recording = false;
    tracking.onHeartbeat = (gameId, sample) => {
      if (!recording) return;
      let list = samples.get(gameId);
      if (!list) samples.set(gameId, (list = []));
      list.push(sample);
    };

    const bots = Bun.spawn([process.execPath, new URL('./hosting-bots.ts', import.meta.url).pathname, '--url', server.localUrl, '--games', String(k), '--timeout', String(roundSeconds + 90)], {
      stdout: 'pipe',
      stderr: 'inherit',
    });
    const botLines: Record<string, unknown>[] = [];
    const botsDone = (async () => {
      // The bots print two lines in all; reading them at the end is enough.
      const text = await new Response(bots.stdout).text();
      for (const line of text.split('\n')) {
        try {
          botLines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // Not ours (a stray console line, the empty tail): ignore.
        }
      }
      await bots.exited;
    })();

    try {
      // Every round must be under way before the window opens; the earliest one bounds how long it may last.
      let firstInProgress: number | undefined;
      const inProgress = () => server.registry.snapshot().gamesByState.in_progress;
      const allStarted = await waitFor(() => {
        if (firstInProgress === undefined && inProgress() > 0) firstInProgress = performance.now();
        return inProgress() >= k;
      }, 60_000 + k * 400, 50);
      const startedGames = inProgress();
      // For a run where some game never started: where those games stand (state and players seen).
      const stuck = allStarted ? undefined : { byState: server.registry.snapshot().gamesByState, lobbies: server.registry.tickStats().filter((g) => g.players < 4).map((g) => g.players) };
      await sleep((countdownSeconds + 1.5) * 1000);
      const windowStart = performance.now();
      const latestEnd = (firstInProgress ?? windowStart) + (countdownSeconds + roundSeconds - 2) * 1000;
      const windowEnd = Math.min(windowStart + windowSeconds * 1000, latestEnd);

      recording = true;
      const cpu0 = process.cpuUsage();
      const botCpu0 = procCpuSeconds(bots.pid);
      const udp0 = udpCounters();
      const machine0 = machineCpuSeconds();
      const rssSamples: number[] = [];
      const players: number[] = [];
      const playing: number[] = [];
      while (performance.now() < windowEnd) {
        await sleep(Math.min(1000, Math.max(0, windowEnd - performance.now())));
        rssSamples.push(process.memoryUsage().rss);
        const snap = server.registry.snapshot();
        players.push(snap.playersConnected);
        playing.push(snap.gamesByState.in_progress);
      }
      recording = false;
      const wallSeconds = (performance.now() - windowStart) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const botCpu = procCpuSeconds(bots.pid) - botCpu0;
      const udp1 = udpCounters();
      const machine1 = machineCpuSeconds();
      const ownCpuSeconds = (cpu.user + cpu.system) / 1e6 + botCpu;

      // Whether slow ticks hit many games at once (a stall of the whole process or machine) or one at a time.
      const slowByBucket = new Map<number, number>();
      for (const list of samples.values()) {
        for (const sample of list) {
          if (sample.tick.lateness.p99Ms <= 10) continue;
          const bucket = Math.floor((sample.at - windowStart) / 5000) * 5;
          slowByBucket.set(bucket, (slowByBucket.get(bucket) ?? 0) + 1);
        }
      }
      const perGame = [...samples.values()].map((list) => {
        // The first heartbeat of the window only marks time: its ticks ran partly before the window.
        const counted = list.length > 1 ? list.slice(1) : list;
        const ticks = counted.reduce((sum, s) => sum + s.tick.ticks, 0);
        const spanMs = list.length > 1 ? (list.at(-1) as HeartbeatSample).at - (list[0] as HeartbeatSample).at : NaN;
        return {
          p50: median(list.map((s) => s.tick.lateness.p50Ms)),
          // Tick lateness (tick-timer.ts); the worst heartbeat p99 of the window is the game's.
          p99: Math.max(...list.map((s) => s.tick.lateness.p99Ms)),
          max: Math.max(...list.map((s) => s.tick.lateness.maxMs)),
          hz: (ticks / spanMs) * 1000,
        };
      });

      // Let the rounds end and the bots collect their results, then every game must have released its slot.
      const roundsOver = await settlesWithin(botsDone, (roundSeconds + 120) * 1000);
      const released = await waitFor(() => server.registry.live === 0, 15_000, 100);
      const done = botLines.find((l) => l.type === 'done');
      return {
        k,
        allStarted,
        startedGames,
        stuck,
        windowSeconds: wallSeconds,
        gamesMeasured: perGame.length,
        tickP50Median: median(perGame.map((g) => g.p50)),
        tickP99Median: median(perGame.map((g) => g.p99)),
        tickP99Worst: Math.max(...perGame.map((g) => g.p99)),
        tickMaxWorst: Math.max(...perGame.map((g) => g.max)),
        hzMedian: median(perGame.map((g) => g.hz)),
        hzWorst: Math.min(...perGame.map((g) => g.hz)),
        playersMin: Math.min(...players),
        playingMin: Math.min(...playing),
        slowHeartbeatsBySecond: Object.fromEntries(slowByBucket),
        othersCpuCores: (machine1.busy - machine0.busy - ownCpuSeconds) / wallSeconds,
        stealCores: (machine1.steal - machine0.steal) / wallSeconds,
        serverCpuCores: (cpu.user + cpu.system) / 1e6 / wallSeconds,
        botCpuCores: botCpu / wallSeconds,
        rssMb: median(rssSamples) / MB,
        udpInPerSecond: (udp1.in - udp0.in) / wallSeconds,
        bots: done ?? null,
        roundsOver,
        released,
        leaks: leakCheck(server, tracking),
        problems: log.problems.slice(0, 5),
        loadavg: loadavg()[0],
      };
    } finally {
      recording = false;
      if (bots.exitCode === null) bots.kill();
      await bots.exited;
    }
  });
}

/** Memory of bare workers with selected parts of the game worker's load, to see where a worker's RSS goes. */
async function probe(): Promise<object> {
  const n = required('n', flags.n);
  const variant = required('variant', flags.variant);
  const smol = !flags['no-smol'];
  const entry = new URL('./hosting-probe-worker.ts', import.meta.url).href;
  const baseline = await settledRss(1500);
  const workers: Worker[] = [];
  const startMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const worker = new Worker(entry, { env: { HUDDLE_PROBE: variant, HUDDLE_PROBE_PORT: String(Number(gamePorts.split('-')[0]) + i) }, smol });
    const ready = await new Promise<string>((resolve) => {
      worker.addEventListener('message', (event: MessageEvent) => resolve(String(event.data)), { once: true });
      worker.addEventListener('error', (event) => resolve(`error: ${event.message}`), { once: true });
    });
    if (ready !== 'ready') throw new Error(`probe worker ${variant}: ${ready}`);
    startMs.push(performance.now() - started);
    workers.push(worker);
  }
  const withWorkers = await settledRss(3000);
  const closed = workers.map((w) => new Promise<void>((resolve) => w.addEventListener('close', () => resolve(), { once: true })));
  for (const worker of workers) worker.terminate();
  await Promise.all(closed);
  return { variant, smol, n, baselineMb: baseline / MB, perWorkerMb: (withWorkers - baseline) / MB / n, startP50: percentile(startMs, 50), loadavg: loadavg()[0] };
}

const parts: Record<string, () => Promise<object>> = { latency, rss, tick, probe };
const run = part === undefined ? undefined : parts[part];
if (!run) {
  console.error(`usage: bun bench/hosting-run.ts ${Object.keys(parts).join('|')} [flags]`);
  process.exitCode = 2;
} else {
  const result = await run();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
