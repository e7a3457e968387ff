/**
 * The game state machine (`starting → lobby → in_progress → finished`, or `failed` from any of them) and its single
 * release path.
 *
 * Accounting rule: a game holds its slot and port from `create` until its launcher reports `exit` (the worker is
 * gone and the port can be bound again), and releases them exactly once, whatever ended it.
 */
import type { Logger } from '../../log.ts';
import type { GameState, Metrics } from '../metrics.ts';
import type { PortPool } from '../ports.ts';
import type { EndState, GameRecord } from './game-record.ts';
import { secretTexts } from './game-record.ts';
import type { RegistryObserver } from './observer.ts';
import type { GameStateStore } from './state-store.ts';

/** Told of every change of a live game worth keeping across a restart (registry/adopt.ts's records). */
export interface GameJournal {
  saved(record: GameRecord): void;
  released(record: GameRecord): void;
}

export interface LifecycleDeps {
  store: GameStateStore;
  /** Only with a launcher whose games outlive this process (`--launcher process`). */
  journal?: GameJournal;
  ports: PortPool;
  metrics: Metrics;
  log: Logger;
  /** Monotonic ms. */
  clock: () => number;
  /** Told of every state change and release (the cluster directory); never blocks or fails them. */
  observer: RegistryObserver;
}

export class GameLifecycle {
  private readonly endedListeners = new Set<(gameId: string) => void>();

  constructor(private readonly deps: LifecycleDeps) {}

  /** Calls `listener(gameId)` whenever a game releases its slot. Returns an unsubscribe. */
  onGameEnded(listener: (gameId: string) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  transition(record: GameRecord, to: GameState): void {
    const from = record.state;
    if (from === to) return;
    record.state = to;
    record.stateSince = this.deps.clock();
    this.deps.log.info('game.state', { gameId: record.id, from, to, ...(record.difficulty ? { difficulty: record.difficulty } : {}) });
    if (record.slotHeld) this.changed(record);
    this.notify(record, () => this.deps.observer.gameChanged(record));
  }

  /** Something of a live game worth keeping across a restart changed (a seat, a state, a report). */
  changed(record: GameRecord): void {
    if (record.slotHeld) this.deps.journal?.saved(record);
  }

  /** An observer that throws must not break the state machine: it is logged and the game goes on. */
  notify(record: GameRecord, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.deps.log.error('game.observer_failed', { gameId: record.id, message: errorMessage(error) });
    }
  }

  /** Asks the worker to stop; the first intent wins, and decides what the game becomes once it has exited. */
  stop(record: GameRecord, intent: EndState, message = intent.reason): void {
    record.local.stopIntent ??= intent;
    record.local.handle?.stop(message);
  }

  /** The one place a slot and port are given back; guarded so it happens exactly once per game. */
  release(record: GameRecord, end: EndState): void {
    const { store, ports, metrics, log } = this.deps;
    if (!record.slotHeld) return;
    record.slotHeld = false;
    this.deps.journal?.released(record);
    store.releaseSlot(record);
    if (!ports.release(record.port)) {
      log.error('port.double_free', { gameId: record.id, port: record.port });
    }
    store.revokePasscode(record.passcode);
    for (const text of secretTexts(record.local)) log.unprotect(text);
    // The game is over: its secrets are worthless to keep and harmful to leak.
    record.local.privateKey.fill(0);
    record.local.reportToken.fill(0);
    record.endReason ??= end.reason;
    if (record.state !== 'finished' && end.state === 'failed') {
      this.transition(record, 'failed');
      metrics.gamesFailed++;
    } else if (record.state !== 'finished') {
      this.transition(record, 'finished');
      metrics.gamesFinished++;
    }
    record.players = 0;
    record.spectators = 0;
    this.notify(record, () => this.deps.observer.gameReleased(record));
    record.local.exited.resolve();
    for (const listener of this.endedListeners) {
      try {
        listener(record.id);
      } catch (error) {
        log.error('game.ended_listener_failed', { gameId: record.id, message: errorMessage(error) });
      }
    }
  }

  /** Asks every live game's worker to shut down and waits (bounded) for them to exit. */
  async drain(reason: string, timeoutMs: number, live: GameRecord[] = this.deps.store.liveGames()): Promise<void> {
    for (const record of live) this.stop(record, { state: 'failed', reason: 'server_shutdown' }, reason);
    let timer: Timer | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(live.map((r) => r.local.exited.promise)), timeout]);
    clearTimeout(timer);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
