/**
 * The supervisor's deadlines (start, heartbeat), watched by timers on the matchmaker's own thread. When that
 * thread itself was not running as a deadline passed (an overloaded machine, a long pause), what the game posted
 * meanwhile may still be queued behind the timer: failing it then would blame the game for the watcher's stall.
 * So a deadline seen more than STALL_MS late is looked at again STALL_MS later, the queue having had its turn; a
 * watcher that keeps stalling still gives its verdict after MAX_STALL_DEFERRALS looks. On time, it is a setTimeout.
 */
export const STALL_MS = 500;
export const MAX_STALL_DEFERRALS = 3;

export class Deadline {
  private timer: Timer | undefined;
  private dueAt = 0;
  private deferrals = 0;
  private expire: () => void = () => {};

  /** (Re)starts it: `expire` runs once `ms` have passed while this thread was watching. */
  start(ms: number, expire: () => void): void {
    this.clear();
    this.expire = expire;
    this.dueAt = performance.now() + ms;
    this.deferrals = 0;
    this.timer = setTimeout(() => this.due(), ms);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private due(): void {
    const now = performance.now();
    if (now - this.dueAt > STALL_MS && this.deferrals < MAX_STALL_DEFERRALS) {
      this.deferrals++;
      this.dueAt = now + STALL_MS;
      this.timer = setTimeout(() => this.due(), STALL_MS);
      return;
    }
    this.timer = undefined;
    this.expire();
  }
}
