/**
 * Starting and supervising game servers. The matchmaker sees only `GameLauncher`: a game is launched with its
 * environment (the contract in worker-env.ts, secrets included) and reports back through events. Nothing here
 * lets the matchmaker touch the game's memory, so a child-process or fleet (Agones) launcher can replace the
 * Bun Worker one without the registry noticing (DESIGN.md section 9).
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
import { parseWorkerMessage } from './messages.ts';
import { encodeWorkerEnv, type WorkerEnv } from './worker-env.ts';

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
  | 'protocol_violation';

export const FAILURE_CAUSES: ReadonlySet<ExitCause> = new Set([
  'crashed',
  'closed_early',
  'fatal',
  'start_timeout',
  'heartbeat_timeout',
  'protocol_violation',
]);

export type LauncherEvent =
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
  /**
   * Asks the game to end: it is told `shutdown {reason}` and terminated if it has not closed after `graceMs`.
   * Idempotent; the `exit` event follows.
   */
  stop(reason: string, graceMs?: number): void;
}

export interface GameLauncher {
  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle;
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
  /** Default grace for stop(). */
  stopGraceMs?: number;
  /** If `close` has not come this long after terminate(), report the exit anyway (the port may still be held). */
  closeBackstopMs?: number;
}

export class BunWorkerLauncher implements GameLauncher {
  private readonly entry: string;
  private readonly stopGraceMs: number;
  private readonly closeBackstopMs: number;

  constructor(options: BunWorkerLauncherOptions = {}) {
    this.entry = options.entry ?? GAME_WORKER_ENTRY;
    this.stopGraceMs = options.stopGraceMs ?? 2000;
    this.closeBackstopMs = options.closeBackstopMs ?? 10000;
  }

  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    return new SupervisedWorker(this.entry, spec, onEvent, this.stopGraceMs, this.closeBackstopMs);
  }
}

class SupervisedWorker implements GameHandle {
  private readonly worker: Worker;
  private ready = false;
  private closed = false;
  private failure: { cause: ExitCause; detail: string } | undefined;
  private exitingReason: WorkerExitReason | undefined;
  private stopRequested: string | undefined;
  private startTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private graceTimer: Timer | undefined;
  private backstopTimer: Timer | undefined;

  constructor(
    entry: string,
    private readonly spec: LaunchSpec,
    private readonly onEvent: (event: LauncherEvent) => void,
    private readonly stopGraceMs: number,
    private readonly closeBackstopMs: number,
  ) {
    // The env option replaces the worker's environment entirely: it sees only the contract, secrets included,
    // and they never appear in argv or on the message channel.
    this.worker = new Worker(entry, { env: encodeWorkerEnv(spec.env), smol: true });
    this.worker.addEventListener('message', (event) => this.onMessage(event.data));
    this.worker.addEventListener('messageerror', () => this.fail('protocol_violation', 'undecodable message'));
    this.worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      this.fail('crashed', `worker error: ${event.message || 'unknown error'}`);
    });
    this.worker.addEventListener('close', () => this.onClose());
    this.startTimer = setTimeout(
      () => this.fail('start_timeout', `not ready within ${spec.startTimeoutMs} ms`),
      spec.startTimeoutMs,
    );
  }

  stop(reason: string, graceMs: number = this.stopGraceMs): void {
    if (this.closed || this.stopRequested !== undefined) return;
    this.stopRequested = reason;
    if (!this.ready || graceMs <= 0) {
      this.terminate();
      return;
    }
    this.worker.postMessage({ type: 'shutdown', reason });
    this.graceTimer = setTimeout(() => this.terminate(), graceMs);
  }

  private onMessage(data: unknown): void {
    if (this.closed || this.failure) return;
    const message = parseWorkerMessage(data);
    if (!message) {
      this.fail('protocol_violation', 'invalid message on the supervision channel');
      return;
    }
    if (this.ready) this.armHeartbeat();
    switch (message.type) {
      case 'ready':
        if (this.ready) return;
        if (message.port !== this.spec.env.port) {
          this.fail('protocol_violation', `ready on port ${message.port}, expected ${this.spec.env.port}`);
          return;
        }
        this.ready = true;
        clearTimeout(this.startTimer);
        this.armHeartbeat();
        this.emit({ type: 'ready', port: message.port });
        return;
      case 'heartbeat':
        // Before ready the start timeout is what counts, and the documented order is ready first.
        if (this.ready) {
          const { players, phase, tick, seats } = message;
          this.emit({ type: 'heartbeat', players, phase, ...(tick ? { tick } : {}), ...(seats ? { seats } : {}) });
        }
        return;
      case 'players':
        if (this.ready) {
          const { count, names, spectators } = message;
          this.emit({ type: 'players', count, ...(names ? { names } : {}), ...(spectators !== undefined ? { spectators } : {}) });
        }
        return;
      case 'seat_released':
        // The schema allows 20 digits; a client id is a u64, so anything larger is a broken worker.
        if (this.ready) {
          const clientId = BigInt(message.clientId);
          if (clientId >= 1n << 64n) this.fail('protocol_violation', 'seat_released for a client id beyond 64 bits');
          else this.emit({ type: 'seat_released', clientId });
        }
        return;
      case 'report':
        if (this.ready) this.emit({ type: 'report', report: message.report });
        return;
      case 'log':
        if (this.ready) this.emit({ type: 'log', event: message.event, fields: message.fields });
        return;
      case 'fatal':
        this.fail('fatal', message.message);
        return;
      case 'exiting':
        this.exitingReason = message.reason;
        return;
    }
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(
      () => this.fail('heartbeat_timeout', `no heartbeat for ${this.spec.heartbeatTimeoutMs} ms`),
      this.spec.heartbeatTimeoutMs,
    );
  }

  /** Records the first failure and ends the worker; `exit` follows from the close event. */
  private fail(cause: ExitCause, detail: string): void {
    if (this.closed || this.failure) return;
    // A worker that said it is exiting and then closes abnormally still exited on purpose.
    if (this.exitingReason !== undefined && cause === 'crashed') return;
    this.failure = { cause, detail };
    this.terminate();
  }

  private terminate(): void {
    if (this.closed) return;
    clearTimeout(this.startTimer);
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.graceTimer);
    this.worker.terminate();
    this.backstopTimer ??= setTimeout(() => this.onClose(), this.closeBackstopMs);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of [this.startTimer, this.heartbeatTimer, this.graceTimer, this.backstopTimer]) clearTimeout(timer);
    let event: LauncherEvent;
    if (this.failure) event = { type: 'exit', ...this.failure };
    else if (this.exitingReason !== undefined) {
      event = { type: 'exit', cause: 'exiting', reason: this.exitingReason, detail: `worker exited: ${this.exitingReason}` };
    } else if (this.stopRequested !== undefined) {
      event = { type: 'exit', cause: 'stopped', detail: `stopped: ${this.stopRequested}` };
    } else if (!this.ready) event = { type: 'exit', cause: 'closed_early', detail: 'worker ended before it was ready' };
    else event = { type: 'exit', cause: 'closed_early', detail: 'worker ended without saying why' };
    this.emit(event);
  }

  private emit(event: LauncherEvent): void {
    try {
      this.onEvent(event);
    } catch {
      // The listener's bugs must not stop supervision; the registry logs its own errors.
    }
  }
}
