/**
 * Starting and supervising game servers. The matchmaker sees only `GameLauncher`: a game is launched with its
 * environment (the contract in worker-env.ts, secrets included) and reports back through events. Nothing here
 * lets the matchmaker touch the game's memory, so the child-process launcher (process-launcher.ts) or a fleet
 * (Agones) one replaces the Bun Worker one without the registry noticing (DESIGN.md section 9). supervisor.ts
 * keeps the guarantees below for every host.
 *
 * Launcher guarantees, which the registry relies on:
 * - events arrive in order: at most one `ready`, then `heartbeat` / `players` / `seat_released` / `report`, then
 *   exactly one `exit`;
 * - `exit` comes only once the game server is gone and its UDP port can be bound again;
 * - a game that is not ready within `startTimeoutMs`, is silent for `heartbeatTimeoutMs` after ready, throws,
 *   posts `fatal` or an invalid message, or ends without saying `exiting` is ended and reported with a failure
 *   cause. Exit codes are never read: after terminate() they are 0 or 1 at random (DESIGN.md section 10).
 */
import type { GameReport, SeatState, TickStats, WorkerExitReason, WorkerPhase } from '../contract/worker-messages.ts';
import type { ChannelHub } from './channel-hub.ts';
import { Supervisor } from './supervisor.ts';
import { encodeWorkerEnv, type GameWorkerData, type WorkerEnv } from './worker-env.ts';
import { bindUdpFd, closeUdpFd, polledUdpSupport, polledUdpUnavailable } from '../protocol/transport/udp-polled.ts';

export interface LaunchSpec {
  /** The worker's whole environment, secrets included. */
  env: WorkerEnv;
  startTimeoutMs: number;
  heartbeatTimeoutMs: number;
}

/** Why a game server ended. Only `exiting` (it said so first) and `stopped` (we asked) are not failures. */
export type ExitCause =
  | 'exiting'
  | 'stopped'
  | 'crashed'
  | 'closed_early'
  | 'fatal'
  | 'start_timeout'
  | 'heartbeat_timeout'
  | 'protocol_violation'
  /** An adopted game (process launcher, after a matchmaker restart) whose process was gone or never reconnected. */
  | 'lost_in_restart';

export const FAILURE_CAUSES: ReadonlySet<ExitCause> = new Set([
  'crashed',
  'closed_early',
  'fatal',
  'start_timeout',
  'heartbeat_timeout',
  'protocol_violation',
  'lost_in_restart',
]);

export type LauncherEvent =
  /** A warm game (`env.standby`) is loaded and bound, and waits for `GameHandle.begin`. Comes before `ready`. */
  | { type: 'standby' }
  | { type: 'ready'; port: number }
  | { type: 'heartbeat'; players: number; phase: WorkerPhase; tick?: TickStats; seats?: SeatState[] }
  /** `count` is the seats taken (connected and held for a rejoin); `spectators` the watchers connected. */
  | { type: 'players'; count: number; names?: string[]; spectators?: number }
  /** A seat is gone for good (left on purpose, or its rejoin grace ran out): a rejoin for it is refused. */
  | { type: 'seat_released'; clientId: bigint }
  | { type: 'report'; report: GameReport }
  | { type: 'log'; event: string; fields: Record<string, string | number | boolean> }
  | {
      type: 'exit';
      cause: ExitCause;
      /** Set when cause is `exiting`: what the worker said. */
      reason?: WorkerExitReason;
      /** Human-readable, never contains a secret (worker error messages are passed through the logger's guard). */
      detail: string;
    };

export interface GameHandle {
  /** The game's process, when it has one of its own (the process launcher): what an adoption record names. */
  readonly process?: ProcessIdentity;
  /**
   * Asks the game to end: it is told `shutdown {reason}` and terminated if it has not closed after `graceMs`.
   * Idempotent; the `exit` event follows.
   */
  stop(reason: string, graceMs?: number): void;
  /**
   * A warm game standing by becomes a game of `maxPlayers` (at most its environment's): `ready` follows within
   * `startTimeoutMs` (default: the launch's), or it fails `start_timeout`. False if it is not standing by (not
   * yet, or no longer). Handles of launchers with `warm` must have it.
   */
  begin?(maxPlayers: number, startTimeoutMs?: number): boolean;
  /**
   * Lets go of a game that outlives this process (`--on-stop detach`): supervision ends, no `exit` follows, the
   * game plays on for the next matchmaker to adopt. Only handles of launchers that have `adopt`.
   */
  detach?(): void;
}

/** A process as the OS knows it: the pid, and its start time so a recycled pid is not mistaken for it. */
export interface ProcessIdentity {
  pid: number;
  /** Linux: field 22 of /proc/<pid>/stat (clock ticks since boot); empty where unknown. */
  startTime: string;
}

/** What the launcher needs to take over a game an earlier matchmaker launched (the process launcher's records). */
export interface AdoptSpec {
  gameId: string;
  port: number;
  reportToken: string;
  process: ProcessIdentity;
  /** How long the game's channel may take to reconnect before the game is `lost_in_restart`. */
  reconnectTimeoutMs: number;
  heartbeatTimeoutMs: number;
}

export interface GameLauncher {
  /**
   * The supervision channels its games connect to over HTTP (the process launcher): the server serves them on the
   * report route's listener. Launchers whose channel is in-process have none.
   */
  readonly channels?: ChannelHub;
  /**
   * Whether its games can be started warm (`env.standby`: loaded and waiting for `begin`), so a create need not
   * wait for a game server to start (registry/warm.ts).
   */
  readonly warm?: boolean;
  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle;
  /**
   * Takes over a running game from an earlier matchmaker; only launchers whose games outlive it have this. The
   * handle never emits `ready` (the game was ready before); its `exit` is `lost_in_restart` when the process is
   * gone or does not reconnect in time.
   */
  adopt?(spec: AdoptSpec, onEvent: (event: LauncherEvent) => void): GameHandle;
}

/**
 * The worker entry. From source it sits beside this file. In a binary from
 * `bun build --compile src/index.ts src/workers/game-worker.ts` it is embedded as `/$bunfs/root/workers/game-worker.js`
 * (paths relative to the entrypoints' common root, `src/`), which Bun finds from the specifier
 * `./workers/game-worker.ts`; a URL relative to this module would point at the bundle's root instead.
 */
export const GAME_WORKER_ENTRY = import.meta.url.includes('$bunfs')
  ? './workers/game-worker.ts'
  : new URL('./game-worker.ts', import.meta.url).href;

export interface BunWorkerLauncherOptions {
  /** Module URL or path of the worker entry (tests pass fixtures). */
  entry?: string;
  /** Whether the entry can start warm (`HUDDLE_STANDBY`); by default only the game worker's own entry. */
  warm?: boolean;
  /** Default grace for stop(). */
  stopGraceMs?: number;
  /** If `close` has not come this long after terminate(), report the exit anyway (the port may still be held). */
  closeBackstopMs?: number;
  /**
   * `wakes` (the default for the game worker's own entry): the launcher binds each game's UDP port and hands the
   * descriptor to the worker, which reads it at its loop's wakes; the launcher closes it once the worker is gone.
   * `each`: the worker binds its own Bun socket, called back per datagram. Where reading at wakes is not available
   * (not Linux), `wakes` means `each`, and `udpReadsFallback` says why.
   */
  udpReads?: 'each' | 'wakes';
}

export class BunWorkerLauncher implements GameLauncher {
  /**
   * The game worker can start warm. A warm worker lives in this process and dies with it, so it can never be
   * left behind unsupervised. Another entry (a test's fixture) must say it speaks `standby`/`begin`.
   */
  readonly warm: boolean;
  private readonly entry: string;
  private readonly stopGraceMs: number;
  private readonly closeBackstopMs: number;
  /** How the games read their UDP ports, as asked and available here. */
  readonly udpReads: 'each' | 'wakes';
  /** Why `wakes` was asked but the games read `each`; undefined otherwise. */
  readonly udpReadsFallback: string | undefined;

  constructor(options: BunWorkerLauncherOptions = {}) {
    this.entry = options.entry ?? GAME_WORKER_ENTRY;
    this.warm = options.warm ?? options.entry === undefined;
    // Another entry (a test's fixture) binds its own port unless it says it reads the launcher's descriptor.
    const asked = options.udpReads ?? (options.entry === undefined ? 'wakes' : 'each');
    const support = asked === 'wakes' ? polledUdpSupport() : ({ ok: true } as const);
    this.udpReads = support.ok ? asked : 'each';
    this.udpReadsFallback = support.ok ? undefined : support.why;
    this.stopGraceMs = options.stopGraceMs ?? 2000;
    this.closeBackstopMs = options.closeBackstopMs ?? 10000;
  }

  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    return new SupervisedWorker(this.entry, spec, onEvent, this.stopGraceMs, this.closeBackstopMs, this.udpReads === 'wakes' && polledUdpUnavailable(spec.env.bindHost) === undefined);
  }
}

class SupervisedWorker implements GameHandle {
  private readonly worker: Worker;
  private readonly supervisor: Supervisor;

  constructor(
    entry: string,
    spec: LaunchSpec,
    onEvent: (event: LauncherEvent) => void,
    stopGraceMs: number,
    closeBackstopMs: number,
    bindHere: boolean,
  ) {
    // Bound here, the port is ours: a worker that is terminated mid-tick cannot leave it bound, since the
    // descriptor is closed on the worker's `close`, before `exit` says the port is free. (Only if `close` never
    // comes does the backstop report the exit with the port still bound, as it says; the descriptor is closed when
    // `close` does come, not while the worker may still read it.) A taken port throws
    // (UdpBindError, EADDRINUSE), which the registry answers as a failed start.
    const udpFd = bindHere ? bindUdpFd(spec.env.bindHost, spec.env.port) : undefined;
    // The env option replaces the worker's environment entirely: it sees only the contract, secrets included,
    // and they never appear in argv or on the message channel.
    // workerData carries only the socket's descriptor (no secret).
    const workerData: GameWorkerData = udpFd !== undefined ? { udpFd } : {};
    try {
      this.worker = new Worker(entry, { env: encodeWorkerEnv(spec.env), smol: true, workerData } as WorkerOptions);
    } catch (error) {
      if (udpFd !== undefined) closeUdpFd(udpFd);
      throw error;
    }
    this.supervisor = new Supervisor(
      {
        port: spec.env.port,
        startTimeoutMs: spec.startTimeoutMs,
        heartbeatTimeoutMs: spec.heartbeatTimeoutMs,
        stopGraceMs,
        closeBackstopMs,
        ...(spec.env.standby ? { standby: true } : {}),
        noun: 'worker',
      },
      onEvent,
      {
        deliver: (message) => {
          this.worker.postMessage(message);
          return true;
        },
        terminate: () => this.worker.terminate(),
      },
    );
    this.worker.addEventListener('message', (event) => this.supervisor.message(event.data));
    this.worker.addEventListener('messageerror', () => this.supervisor.fail('protocol_violation', 'undecodable message'));
    this.worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      this.supervisor.fail('crashed', `worker error: ${event.message || 'unknown error'}`);
    });
    this.worker.addEventListener('close', () => {
      if (udpFd !== undefined) closeUdpFd(udpFd);
      this.supervisor.gone();
    });
  }

  stop(reason: string, graceMs?: number): void {
    this.supervisor.stop(reason, graceMs);
  }

  begin(maxPlayers: number, startTimeoutMs?: number): boolean {
    return this.supervisor.begin(maxPlayers, startTimeoutMs);
  }
}
