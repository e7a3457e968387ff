/**
 * Warm games: game servers started before anyone asks for one, so that a create does not wait 20–30 ms for a
 * worker to load its modules (BENCHMARKS.md "Hosting"). A fleet keeps a buffer of ready game servers
 * for the same reason (Agones' `Ready` servers).
 *
 * Nothing is shared or reused between games. Each warm game is a game server of its own with its own game id,
 * port and freshly minted secrets in its environment (`HUDDLE_STANDBY=1`). It loads, binds its port, posts
 * `standby` and waits. A create claims one: the game's record takes its identity and its handle, and `begin` tells
 * it how many players the creator asked for. Its lobby opens then, and it posts `ready`.
 *
 * Accounting. A warm game holds a port from the pool, not a game slot. The pool keeps `live + warm ≤ maxGames`, so
 * a claim never takes more than the slots. It makes none while ports run short, and none once the node drains.
 * Once claimed, the game's record owns the port and the secrets (lifecycle.ts releases them).
 *
 * Failure. A warm game that ends before it is claimed gives its port back. The next one is made after a back-off
 * that doubles with each failure in a row (1 s up to 60 s), and a streak is logged once, at its start.
 */
import type { Logger } from '../../log.ts';
import { FAILURE_CAUSES, type GameHandle, type GameLauncher, type LauncherEvent } from '../../workers/launcher.ts';
import type { PortPool } from '../ports.ts';
import { newGameId, randomBytes, SECRET_BYTES } from '../secrets.ts';
import { ClientIds } from '../tokens.ts';
import { secretTexts } from './game-record.ts';
import { gameEnv } from './launch.ts';
import type { RegistrySettings } from './types.ts';

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

/** Everything a cold start would mint for a game, minted when its warm game server is started. */
interface WarmIdentity {
  gameId: string;
  port: number;
  privateKey: Uint8Array;
  reportToken: Uint8Array;
  clientIds: ClientIds;
  hostClientId: bigint;
}

/** What a claimed warm game brings to its record. */
export interface WarmGame extends WarmIdentity {
  handle: GameHandle;
  /**
   * Hands the game to its record: `begin(maxPlayers)` is sent as soon as it stands by (now, if it does already),
   * and every later event goes to `onEvent`. `startDeadline` (monotonic ms) is when the create gives up: begun
   * late, the game gets only what is left of it to be ready.
   */
  attach(maxPlayers: number, startDeadline: number, onEvent: (event: LauncherEvent) => void): void;
  /** The create failed before its record took the game: it is stopped, and its port and secrets given back. */
  abandon(): void;
}

export interface WarmGamesDeps {
  settings: RegistrySettings;
  /** How many to keep standing by. */
  target: number;
  ports: PortPool;
  launcher: GameLauncher;
  log: Logger;
  reportUrl: (gameId: string) => string;
  /** Games holding a slot now. */
  live: () => number;
  /** Monotonic ms. */
  clock: () => number;
}

interface Spare extends WarmIdentity {
  handle: GameHandle | undefined;
  standingBy: boolean;
  /** Set once claimed: the record's handler, which the spare's events now go to. */
  route: ((event: LauncherEvent) => void) | undefined;
  exited: PromiseWithResolvers<void>;
}

export class WarmGames {
  private readonly spares = new Map<string, Spare>();
  /** Abandoned by a create that failed, and still ending: they hold their port until they have exited. */
  private readonly ending = new Set<Spare>();
  private stopped = false;
  private failures = 0;
  private backoff: Timer | undefined;
  private soon: Timer | undefined;
  private claimedCount = 0;
  private coldCount = 0;

  constructor(private readonly deps: WarmGamesDeps) {}

  /** Warm games standing by now, ready to be claimed. */
  get standingBy(): number {
    let n = 0;
    for (const spare of this.spares.values()) if (spare.standingBy) n++;
    return n;
  }

  /** Creates whose record took a warm game (for /metrics). */
  get claimed(): number {
    return this.claimedCount;
  }

  /** Creates that found no warm game and started theirs cold (for /metrics). */
  get cold(): number {
    return this.coldCount;
  }

  /** A create found no warm game and started its game cold. */
  startedCold(): void {
    this.coldCount++;
  }

  /** Warm games a create could take now (standing by or still starting). */
  get claimable(): number {
    return this.spares.size;
  }

  /** Warm games held (standing by, still starting, or ending unclaimed): each holds a port. */
  get held(): number {
    return this.spares.size + this.ending.size;
  }

  /**
   * Takes a warm game for a create: one standing by if there is one, else one still starting (it is further
   * along than a cold start would be). Undefined if none is held: the caller starts a game cold. The caller adds
   * its record to the state and then calls `refill()`.
   */
  claim(): WarmGame | undefined {
    if (this.stopped) return undefined;
    let chosen: Spare | undefined;
    for (const spare of this.spares.values()) {
      if (spare.standingBy) {
        chosen = spare;
        break;
      }
      chosen ??= spare;
    }
    if (!chosen?.handle) return undefined;
    const spare = chosen;
    const handle = chosen.handle;
    this.spares.delete(spare.gameId);
    return {
      gameId: spare.gameId,
      port: spare.port,
      privateKey: spare.privateKey,
      reportToken: spare.reportToken,
      clientIds: spare.clientIds,
      hostClientId: spare.hostClientId,
      handle,
      attach: (maxPlayers, startDeadline, onEvent) => {
        this.claimedCount++;
        const begin = (): void => {
          // A game that cannot take `begin` (it is ending, or its launcher has none) must not leave the create
          // waiting: it is stopped, and its exit fails the create.
          const left = Math.max(1, startDeadline - this.deps.clock());
          if (!handle.begin?.(maxPlayers, left)) handle.stop('the game could not begin');
        };
        spare.route = (event) => {
          // It started: whatever failed before was not a streak of broken starts.
          if (event.type === 'standby' || event.type === 'ready') this.failures = 0;
          if (event.type === 'standby') begin();
          else onEvent(event);
        };
        if (spare.standingBy) begin();
      },
      abandon: () => {
        this.ending.add(spare);
        spare.route = (event) => {
          if (event.type !== 'exit') return;
          this.dispose(spare);
          this.refill();
        };
        handle.stop('the create failed');
      },
    };
  }

  /** Starts warm games until `target` are held, while slots, ports and the back-off allow. */
  refill(): void {
    const { target, ports, settings, live } = this.deps;
    while (!this.stopped && this.backoff === undefined && this.held < target && live() + this.held < settings.maxGames) {
      const port = ports.take();
      if (port === undefined) return;
      this.start(port);
    }
  }

  /** `refill()` on a later turn of the event loop, once what runs now (a create's answer) is done. */
  refillSoon(): void {
    if (this.soon !== undefined || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.refill();
    }, 0);
  }

  /** Stops every warm game and waits (bounded) until each has exited; no new one is made after. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.backoff);
    this.backoff = undefined;
    clearTimeout(this.soon);
    this.soon = undefined;
    const spares = [...this.spares.values(), ...this.ending];
    for (const spare of spares) spare.handle?.stop('the server is shutting down');
    let timer: Timer | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(spares.map((spare) => spare.exited.promise)), timeout]);
    clearTimeout(timer);
  }

  private start(port: number): void {
    const { settings, launcher, log, reportUrl } = this.deps;
    const clientIds = new ClientIds();
    const spare: Spare = {
      gameId: newGameId(),
      port,
      privateKey: randomBytes(SECRET_BYTES),
      reportToken: randomBytes(SECRET_BYTES),
      clientIds,
      hostClientId: clientIds.next(),
      handle: undefined,
      standingBy: false,
      route: undefined,
      exited: Promise.withResolvers<void>(),
    };
    // Guarded from the moment they exist; the record that claims the game unprotects them when it is released.
    for (const text of secretTexts(spare)) log.protect(text);
    this.spares.set(spare.gameId, spare);
    try {
      spare.handle = launcher.launch(
        {
          env: {
            ...gameEnv(settings, { ...spare, reportUrl: reportUrl(spare.gameId) }),
            // The node's limit: `begin` may lower it to what the creator asks.
            maxPlayers: settings.maxPlayers,
            standby: true,
          },
          startTimeoutMs: settings.workerStartTimeoutMs,
          heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
        },
        (event) => (spare.route ? spare.route(event) : this.unclaimed(spare, event)),
      );
    } catch (error) {
      this.forget(spare);
      this.failed(error instanceof Error ? error.message : 'the launcher threw');
    }
  }

  /** An event of a warm game nobody has claimed yet. */
  private unclaimed(spare: Spare, event: LauncherEvent): void {
    if (event.type === 'standby') {
      spare.standingBy = true;
      this.failures = 0;
      return;
    }
    if (event.type !== 'exit') return;
    this.forget(spare);
    if (this.stopped) return;
    if (FAILURE_CAUSES.has(event.cause)) this.failed(`${event.cause}: ${event.detail}`);
    else this.refill();
  }

  /** Gives back the port and drops the secrets of a warm game that was never claimed. */
  private forget(spare: Spare): void {
    if (this.spares.delete(spare.gameId)) this.dispose(spare);
  }

  /** Gives back what a warm game held that no game record owns. */
  private dispose(spare: Spare): void {
    this.ending.delete(spare);
    if (!this.deps.ports.release(spare.port)) this.deps.log.error('port.double_free', { port: spare.port });
    for (const text of secretTexts(spare)) this.deps.log.unprotect(text);
    spare.privateKey.fill(0);
    spare.reportToken.fill(0);
    spare.exited.resolve();
  }

  private failed(message: string): void {
    this.failures++;
    if (this.failures === 1) this.deps.log.warn('warm.failed', { message });
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.failures - 1));
    clearTimeout(this.backoff);
    this.backoff = setTimeout(() => {
      this.backoff = undefined;
      this.refill();
    }, delay);
    this.backoff.unref?.();
  }
}
