/**
 * One arena round with four real bots (runBot) against a real matchmaker and a real game worker in this process,
 * while a PacketFuzzer attacks the game's UDP port; everything the suites assert or the bench records is
 * collected into a RoundUnderFuzz report. Used by tests/hardening/packet-fuzz.test.ts and bench/fuzz.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BotOutcome, runBot } from '../../../src/bot.ts';
import { defaultConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { type RunningServer, startServer } from '../../../src/matchmaker/server.ts';
import { freePortRange, waitFor } from '../../matchmaker/support/env.ts';
import { RecordingLauncher } from '../support-api/harness.ts';
import { captureClientSends } from './client-capture.ts';
import { type FuzzStats, PacketFuzzer } from './packet-fuzzer.ts';
import { processCpuSeconds, threadCpuSeconds, threadsNamed, udpDrops, udpQueuedBytes } from './proc.ts';

export interface RoundOptions {
  datagrams: number;
  roundSeconds: number;
  /** Datagrams/s; 0 = as fast as the sender goes. */
  rate: number;
  seed: number;
  /** Seconds of play measured without fuzz first (the worker's CPU baseline); 0 skips it. */
  baselineSeconds?: number;
  log?: (line: string) => void;
}

export interface CpuSample {
  seconds: number;
  /** CPU seconds of the game worker's thread over the interval. */
  workerCpu: number;
  /** CPU seconds of the whole process (matchmaker, bots, fuzzer and worker) over the interval. */
  processCpu: number;
}

export interface RoundUnderFuzz {
  gameId: string;
  botNames: string[];
  outcomes: BotOutcome[];
  fuzz: FuzzStats;
  /** Game states sampled every 20 ms while the fuzz ran. */
  statesDuringFuzz: string[];
  stateWhenFuzzEnded: string;
  maxPlayersSeen: number;
  /** `game.player_joined` / `player_left` / `player_kicked` log events of the game, in order, before its round ended. */
  joins: number;
  leavesBeforeRoundOver: number;
  finalStatus: { state: string; endReason: string | null };
  storedResults: { status: number; names: string[] };
  capturedClientDatagrams: number;
  kernelDropsOnGamePort: number;
  baseline?: CpuSample;
  underFuzz: CpuSample;
}

const BOT_NAMES = ['host', 'ann', 'bob', 'cy'];

export async function playRoundUnderFuzz(options: RoundOptions): Promise<RoundUnderFuzz> {
  const say = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'huddle-fuzz-'));
  // Remembers each game's private key: the fuzz plays the matchmaker's trusted side to mint real tokens.
  const launcher = new RecordingLauncher({ stopGraceMs: 1000 });
  const logLines: { event: string; gameId?: string; players?: number }[] = [];
  const logger = createLogger({ format: 'json', write: (line) => logLines.push(JSON.parse(line) as { event: string }) });
  let server: RunningServer | undefined;
  const capture = captureClientSends();
  let fuzzer: PacketFuzzer | undefined;
  let monitor: Timer | undefined;
  try {
    server = await startServer({
      config: { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), gamePorts: await freePortRange(3), maxGames: 3, roundSeconds: options.roundSeconds },
      launcher,
      log: logger,
    });
    const url = server.url;
    const registry = server.registry;
    const workersBefore = threadsNamed('Worker');

    // Four bots: the host creates and starts once all four are in.
    const created = Promise.withResolvers<{ gameId: string; passcode: string; port: number }>();
    let roundOver = false;
    const timeoutSeconds = options.roundSeconds + 60;
    // Bun's sockets called back per datagram: the fuzzer replays what the bots send, captured by wrapping
    // Bun.udpSocket (client-capture.ts), which the socket read at the bots' clock ticks does not go through.
    const udpReads = 'each';
    const host = runBot({
      server: url,
      name: BOT_NAMES[0]!,
      mode: { create: {} },
      start: 'normal',
      startWhenPlayers: 4,
      timeoutSeconds,
      udpReads,
      onEvent: (e) => {
        if (e.event === 'created') created.resolve(e);
        if (e.event === 'results') roundOver = true;
      },
    });
    const game = await Promise.race([created.promise, host.then((o) => Promise.reject(new Error(`the host bot ended early: ${o.reason}`)))]);
    const guests = BOT_NAMES.slice(1).map((name) =>
      runBot({ server: url, name, mode: { join: game.passcode }, timeoutSeconds, udpReads, onEvent: (e) => void (e.event === 'results' && (roundOver = true)) }),
    );
    const everyone = Promise.all([host, ...guests]);
    // Awaited below; marked handled now so a failure on the way there is reported as itself, not as this.
    everyone.catch(() => undefined);
    // Player count and state from the moment the game exists; states also apart for the fuzz's duration.
    const states: string[] = [];
    let fuzzing = false;
    let maxPlayersSeen = 0;
    monitor = setInterval(() => {
      const status = registry.status(game.gameId);
      if (fuzzing && states.at(-1) !== status.state) states.push(status.state);
      maxPlayersSeen = Math.max(maxPlayersSeen, status.players);
    }, 20);
    // The thread that appeared with the game (other suites' workers may come and go meanwhile).
    const newWorker = (): number | undefined => [...threadsNamed('Worker')].find((tid) => !workersBefore.has(tid));
    await waitFor(() => newWorker() !== undefined, 5000, 'the game worker thread');
    const workerTid = newWorker()!;

    // A second game, in its lobby: its real tokens are the "other game's" tokens.
    const otherResponse = await fetch(`${url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"other"}' });
    const other = (await otherResponse.json()) as { gameId: string; passcode: string; port: number; connectToken: string };
    const otherTokens = [other.connectToken];
    for (const name of ['o1', 'o2', 'o3']) {
      const joined = await fetch(`${url}/api/games/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ passcode: other.passcode, name }) });
      otherTokens.push(((await joined.json()) as { connectToken: string }).connectToken);
    }

    await waitFor(() => registry.status(game.gameId).state === 'in_progress', 15_000, 'the round to start');
    // Let every bot send for a moment, so there are packets of all four to replay.
    await waitFor(() => new Set(capture.toPort(game.port).map((d) => d.source)).size >= 4 && capture.toPort(game.port).length >= 200, 10_000, 'captured packets of all four bots');
    say(`game ${game.gameId} in progress on UDP ${game.port}; worker thread ${workerTid}`);

    fuzzer = await PacketFuzzer.create(
      { port: game.port, privateKey: launcher.secrets.get(game.gameId)!.privateKey, other: { port: other.port, privateKey: launcher.secrets.get(other.gameId)!.privateKey, connectTokens: otherTokens }, capture },
      options.seed,
    );

    const sample = (): { at: number; worker: number; process: number } => ({ at: performance.now(), worker: threadCpuSeconds(workerTid) ?? Number.NaN, process: processCpuSeconds() });
    const delta = (a: ReturnType<typeof sample>, b: ReturnType<typeof sample>): CpuSample => ({ seconds: (b.at - a.at) / 1000, workerCpu: b.worker - a.worker, processCpu: b.process - a.process });

    let baseline: CpuSample | undefined;
    if (options.baselineSeconds) {
      const start = sample();
      await Bun.sleep(options.baselineSeconds * 1000);
      baseline = delta(start, sample());
      say(`baseline: worker thread ${(baseline.workerCpu / baseline.seconds * 100).toFixed(1)}% of a core with four bots and no fuzz`);
    }

    fuzzing = true;
    const dropsBefore = udpDrops(game.port);
    const start = sample();
    const fuzz = await fuzzer.run({ count: options.datagrams, rate: options.rate, shouldStop: () => roundOver || registry.status(game.gameId).state !== 'in_progress' });
    // The worker is done absorbing when its receive buffer is empty, not when the last datagram left the sender.
    const drainDeadline = performance.now() + 2000;
    while (udpQueuedBytes(game.port) > 0 && performance.now() < drainDeadline) await Bun.sleep(1);
    const underFuzz = delta(start, sample());
    const kernelDropsOnGamePort = udpDrops(game.port) - dropsBefore;
    const stateWhenFuzzEnded = registry.status(game.gameId).state;
    fuzzing = false;
    say(`fuzz: ${fuzz.sent} datagrams in ${fuzz.seconds.toFixed(2)} s; state ${stateWhenFuzzEnded}`);

    const outcomes = await everyone;
    clearInterval(monitor);
    monitor = undefined;
    await waitFor(() => !registry.resolveLive(game.gameId), 10_000, 'the game worker to exit');

    const results = await fetch(`${url}/api/games/${game.gameId}/results`);
    const stored = results.ok ? ((await results.json()) as { players: { name: string }[] }).players.map((p) => p.name) : [];
    const ofGame = logLines.filter((line) => line.gameId === game.gameId);
    const roundOverAt = ofGame.findIndex((line) => line.event === 'game.round_over');
    const beforeEnd = roundOverAt < 0 ? ofGame : ofGame.slice(0, roundOverAt);
    const status = registry.status(game.gameId);
    return {
      gameId: game.gameId,
      botNames: BOT_NAMES,
      outcomes,
      fuzz,
      statesDuringFuzz: states,
      stateWhenFuzzEnded,
      maxPlayersSeen,
      joins: ofGame.filter((line) => line.event === 'game.player_joined').length,
      leavesBeforeRoundOver: beforeEnd.filter((line) => line.event === 'game.player_left' || line.event === 'game.player_kicked').length,
      finalStatus: { state: status.state, endReason: status.endReason },
      storedResults: { status: results.status, names: stored },
      capturedClientDatagrams: capture.total,
      kernelDropsOnGamePort,
      ...(baseline ? { baseline } : {}),
      underFuzz,
    };
  } finally {
    if (monitor) clearInterval(monitor);
    fuzzer?.close();
    capture.restore();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
