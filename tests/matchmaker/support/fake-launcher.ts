import type { GameHandle, GameLauncher, LaunchSpec, LauncherEvent } from '../../../src/workers/launcher.ts';

/** One launched fake game: the test drives its events by hand. */
export class FakeGame implements GameHandle {
  readonly stops: string[] = [];
  /** What `begin` asked for, each time it was called while standing by (a warm game). */
  readonly begins: number[] = [];
  exited = false;
  standingBy = false;

  constructor(
    readonly spec: LaunchSpec,
    private readonly onEvent: (event: LauncherEvent) => void,
    private readonly exitOnStop: boolean,
    private readonly autoReady: boolean,
  ) {}

  /** A warm game is loaded and waits for `begin`. */
  standby(): void {
    this.standingBy = true;
    this.emit({ type: 'standby' });
  }

  /** The start timeout each `begin` was given. */
  readonly beginTimeouts: (number | undefined)[] = [];

  begin(maxPlayers: number, startTimeoutMs?: number): boolean {
    if (!this.standingBy || this.exited) return false;
    this.standingBy = false;
    this.begins.push(maxPlayers);
    this.beginTimeouts.push(startTimeoutMs);
    if (this.autoReady) queueMicrotask(() => !this.exited && this.ready());
    return true;
  }

  emit(event: LauncherEvent): void {
    if (event.type === 'exit') this.exited = true;
    this.onEvent(event);
  }

  ready(): void {
    this.emit({ type: 'ready', port: this.spec.env.port });
  }

  exit(cause: Extract<LauncherEvent, { type: 'exit' }>['cause'], reason?: Extract<LauncherEvent, { type: 'exit' }>['reason']): void {
    this.emit(reason ? { type: 'exit', cause, reason, detail: `fake ${cause}` } : { type: 'exit', cause, detail: `fake ${cause}` });
  }

  stop(reason: string): void {
    this.stops.push(reason);
    // Like a real worker: the exit comes later, once it has closed.
    if (this.exitOnStop && !this.exited) queueMicrotask(() => !this.exited && this.exit('stopped'));
  }
}

/**
 * A launcher that starts nothing. With `autoReady` each game is ready on the next microtask, as a fast worker
 * would be; otherwise the test calls `ready()` itself.
 */
export class FakeLauncher implements GameLauncher {
  readonly games: FakeGame[] = [];
  throwOnLaunch = false;
  autoReady: boolean;
  private readonly exitOnStop: boolean;

  /** Whether its games can start warm (registry/warm.ts): only then does the registry keep warm games. */
  readonly warm: boolean;

  constructor(options: { autoReady?: boolean; exitOnStop?: boolean; warm?: boolean } = {}) {
    // (exitOnStop: false leaves a stopped game running until the test calls exit().)
    this.autoReady = options.autoReady ?? true;
    this.exitOnStop = options.exitOnStop ?? true;
    this.warm = options.warm ?? false;
  }

  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    if (this.throwOnLaunch) throw new Error('cannot start workers');
    const game = new FakeGame(spec, onEvent, this.exitOnStop, this.autoReady);
    this.games.push(game);
    // A warm game stands by first; `begin` then makes it ready (with autoReady).
    if (this.autoReady) queueMicrotask(() => (spec.env.standby ? game.standby() : game.ready()));
    return game;
  }

  get last(): FakeGame {
    const game = this.games.at(-1);
    if (!game) throw new Error('nothing launched');
    return game;
  }

  byId(gameId: string): FakeGame {
    const game = this.games.find((g) => g.spec.env.gameId === gameId);
    if (!game) throw new Error(`no fake game ${gameId}`);
    return game;
  }
}
