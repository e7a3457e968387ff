import type { GameHandle, GameLauncher, LaunchSpec, LauncherEvent } from '../../../src/workers/launcher.ts';

/** One launched fake game: the test drives its events by hand. */
export class FakeGame implements GameHandle {
  readonly stops: string[] = [];
  exited = false;

  constructor(
    readonly spec: LaunchSpec,
    private readonly onEvent: (event: LauncherEvent) => void,
    private readonly exitOnStop: boolean,
  ) {}

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

  constructor(options: { autoReady?: boolean; exitOnStop?: boolean } = {}) {
    this.autoReady = options.autoReady ?? true;
    this.exitOnStop = options.exitOnStop ?? true;
  }

  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    if (this.throwOnLaunch) throw new Error('cannot start workers');
    const game = new FakeGame(spec, onEvent, this.exitOnStop);
    this.games.push(game);
    if (this.autoReady) queueMicrotask(() => game.ready());
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
