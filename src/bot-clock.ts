/**
 * One clock for every bot in a process: `huddle bot` runs one, the load bench's players process hundreds
 * (bench/hosting-bots.ts). Each bot steps at 30 Hz (it reads what its socket holds, sends its inputs, updates its
 * connection); on its own timer each would wake the process 30 times a second, and once more for every datagram
 * it is sent. On a small VM a wake of a Bun loop costs more CPU than what a bot then does (BENCHMARKS.md, "Load",
 * lever 2), so all bots of a process share one 30 Hz timer, and read their sockets at its ticks (udp-polled.ts),
 * as the game server reads its own at its loop's wakes.
 */

/** A bot's step at the clock's tick; `now` (seconds on the performance clock) is when this bot's step began. */
export type BotStep = (now: number) => void;

export class BotClock {
  private readonly steps = new Set<BotStep>();
  private timer: Timer | undefined;

  constructor(
    private readonly hz = 30,
    /** A step that throws: by default the error stays uncaught, as on a bot's own timer (and fails the process). */
    private readonly onError: (error: unknown) => void = (error) =>
      queueMicrotask(() => {
        throw error;
      }),
  ) {
    if (!Number.isFinite(hz) || hz <= 0) throw new RangeError(`a bot clock runs at a rate > 0 Hz, got ${hz}`);
  }

  /** Whether its timer is running: only while some bot is joined. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Steps `step` at every tick from now on; returns the function that stops it (the last one stops the timer). */
  join(step: BotStep): () => void {
    this.steps.add(step);
    this.timer ??= setInterval(() => this.tick(), 1000 / this.hz);
    return () => {
      this.steps.delete(step);
      if (this.steps.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  get size(): number {
    return this.steps.size;
  }

  private tick(): void {
    for (const step of [...this.steps]) {
      // One that left during this tick (another's step stopped it) does not step again.
      if (!this.steps.has(step)) continue;
      try {
        step(performance.now() / 1000);
      } catch (error) {
        // The other bots of the tick still step.
        this.onError(error);
      }
    }
  }
}

/** The clock the bots of this process share. */
export const botClock = new BotClock();
