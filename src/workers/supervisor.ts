/**
 * The launcher guarantees (launcher.ts's header) as one state machine, whatever hosts the game: a Bun Worker or a
 * child process. The host adapter feeds it what the game posted and tells it when the game is gone; it asks the
 * adapter to deliver `shutdown` and to terminate. Everything timing-related (start timeout, heartbeat timeout,
 * stop grace, close backstop) and the order of events (at most one `ready`, exactly one `exit`, last) lives here.
 */
import type { MatchmakerToWorker, WorkerExitReason } from '../contract/worker-messages.ts';
import type { ExitCause, LauncherEvent, LaunchSpec } from './launcher.ts';
import { Deadline } from './deadline.ts';
import { parseWorkerMessage } from './messages.ts';

export interface HostAdapter {
  /** Sends a message to the game; false when it cannot be delivered now (no channel). */
  deliver(message: MatchmakerToWorker): boolean;
  /** Ends the game by force; `gone()` follows once it really is. */
  terminate(): void;
}

export interface SupervisorOptions extends Pick<LaunchSpec, 'startTimeoutMs' | 'heartbeatTimeoutMs'> {
  /** The port the game must say it is ready on. */
  port: number;
  stopGraceMs: number;
  /** If `gone()` has not come this long after terminate(), report the exit anyway (the port may still be held). */
  closeBackstopMs: number;
  /**
   * A game adopted from an earlier matchmaker: it was ready before, so no `ready` event is emitted; until its
   * channel says ready again the start timeout is the reconnection deadline, and missing it is `lost_in_restart`.
   */
  adopted?: boolean;
  /**
   * A warm game (HUDDLE_STANDBY=1): it posts `standby` once loaded, and may then wait without a deadline until
   * `begin()`; the start timeout runs until `standby` and again from `begin()` to `ready`.
   */
  standby?: boolean;
  /** Names the host in details ("worker", "game process"). */
  noun: string;
}

export class Supervisor {
  private ready = false;
  /** A warm game: 'waiting' until it posts `standby`, 'standing_by' until `begin()`, then 'begun'. */
  private warm: 'waiting' | 'standing_by' | 'begun' | undefined;
  private closed = false;
  private failure: { cause: ExitCause; detail: string } | undefined;
  private exitingReason: WorkerExitReason | undefined;
  private stopRequested: string | undefined;
  /** Both watched from this thread, which may itself stall: deadline.ts. */
  private readonly startDeadline = new Deadline();
  private readonly heartbeatDeadline = new Deadline();
  private graceTimer: Timer | undefined;
  private backstopTimer: Timer | undefined;

  constructor(
    private readonly options: SupervisorOptions,
    private readonly onEvent: (event: LauncherEvent) => void,
    private readonly host: HostAdapter,
  ) {
    if (options.standby) this.warm = 'waiting';
    this.startDeadline.start(options.startTimeoutMs, () =>
      options.adopted
        ? this.fail('lost_in_restart', `the ${options.noun} did not reconnect within ${options.startTimeoutMs} ms`)
        : this.fail('start_timeout', `not ready within ${options.startTimeoutMs} ms`),
    );
  }

  get isReady(): boolean {
    return this.ready;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * A warm game standing by becomes its game: `begin` is delivered and the start timeout runs again until it is
   * ready. False (nothing sent) unless it is standing by.
   */
  begin(maxPlayers: number, startTimeoutMs = this.options.startTimeoutMs): boolean {
    if (this.closed || this.failure || this.stopRequested !== undefined || this.warm !== 'standing_by') return false;
    if (!this.host.deliver({ type: 'begin', maxPlayers })) return false;
    this.warm = 'begun';
    this.startDeadline.start(startTimeoutMs, () => this.fail('start_timeout', `not ready within ${Math.round(startTimeoutMs)} ms of begin`));
    return true;
  }

  stop(reason: string, graceMs: number = this.options.stopGraceMs): void {
    if (this.closed || this.stopRequested !== undefined) return;
    this.stopRequested = reason;
    if (!this.ready || graceMs <= 0 || !this.host.deliver({ type: 'shutdown', reason })) {
      this.terminate();
      return;
    }
    this.graceTimer = setTimeout(() => this.terminate(), graceMs);
  }

  /** Something the game posted, not yet validated. */
  message(data: unknown): void {
    if (this.closed || this.failure) return;
    const message = parseWorkerMessage(data);
    if (!message) {
      this.fail('protocol_violation', 'invalid message on the supervision channel');
      return;
    }
    if (this.ready) this.armHeartbeat();
    switch (message.type) {
      case 'standby':
        if (this.warm !== 'waiting') {
          this.fail('protocol_violation', this.warm === undefined ? 'standby from a game that was not started warm' : 'standby twice');
          return;
        }
        this.warm = 'standing_by';
        this.startDeadline.clear();
        this.emit({ type: 'standby' });
        return;
      case 'ready':
        if (this.ready) return;
        if (this.warm !== undefined && this.warm !== 'begun') {
          this.fail('protocol_violation', 'ready before begin');
          return;
        }
        if (message.port !== this.options.port) {
          this.fail('protocol_violation', `ready on port ${message.port}, expected ${this.options.port}`);
          return;
        }
        this.ready = true;
        this.startDeadline.clear();
        this.armHeartbeat();
        if (!this.options.adopted) this.emit({ type: 'ready', port: message.port });
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
        // The schema allows 20 digits; a client id is a u64, so anything larger is a broken game.
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

  /** Records the first failure and ends the game; `exit` follows from `gone()`. */
  fail(cause: ExitCause, detail: string): void {
    if (this.closed || this.failure) return;
    // A game that said it is exiting and then closes abnormally still exited on purpose.
    if (this.exitingReason !== undefined && cause === 'crashed') return;
    this.failure = { cause, detail };
    this.terminate();
  }

  /** The game is gone (its port can be bound again): emits the one `exit`. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.startDeadline.clear();
    this.heartbeatDeadline.clear();
    for (const timer of [this.graceTimer, this.backstopTimer]) clearTimeout(timer);
    const noun = this.options.noun;
    let event: LauncherEvent;
    if (this.failure) event = { type: 'exit', ...this.failure };
    else if (this.exitingReason !== undefined) {
      event = { type: 'exit', cause: 'exiting', reason: this.exitingReason, detail: `${noun} exited: ${this.exitingReason}` };
    } else if (this.stopRequested !== undefined) {
      event = { type: 'exit', cause: 'stopped', detail: `stopped: ${this.stopRequested}` };
    } else if (!this.ready && this.options.adopted) {
      event = { type: 'exit', cause: 'lost_in_restart', detail: `${noun} ended before it reconnected` };
    } else if (!this.ready) event = { type: 'exit', cause: 'closed_early', detail: `${noun} ended before it was ready` };
    else event = { type: 'exit', cause: 'closed_early', detail: `${noun} ended without saying why` };
    this.emit(event);
  }

  /** Stops supervising without ending the game (the matchmaker detaches; the next one adopts it). No event follows. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.startDeadline.clear();
    this.heartbeatDeadline.clear();
    for (const timer of [this.graceTimer, this.backstopTimer]) clearTimeout(timer);
  }

  /** The heartbeat deadline, re-armed (a reconnected channel gets a full timeout to speak). */
  armHeartbeat(): void {
    this.heartbeatDeadline.start(this.options.heartbeatTimeoutMs, () =>
      this.fail('heartbeat_timeout', `no heartbeat for ${this.options.heartbeatTimeoutMs} ms`),
    );
  }

  private terminate(): void {
    if (this.closed) return;
    this.startDeadline.clear();
    this.heartbeatDeadline.clear();
    clearTimeout(this.graceTimer);
    this.host.terminate();
    this.backstopTimer ??= setTimeout(() => this.gone(), this.options.closeBackstopMs);
  }

  private emit(event: LauncherEvent): void {
    try {
      this.onEvent(event);
    } catch {
      // The listener's bugs must not stop supervision; the registry logs its own errors.
    }
  }
}
