/**
 * The game's end of its supervision channel, whatever carries it: Bun's postMessage in a worker, a WebSocket to
 * the matchmaker in a `huddle game` process. The game main (game-main.ts) sees only this.
 */
import type { MatchmakerToWorker, WorkerToMatchmaker } from '../contract/worker-messages.ts';

export interface HostChannel {
  /** Sends a message to the matchmaker; dropped while a reconnecting channel is down (see `resync`). */
  post(message: WorkerToMatchmaker): void;
  /** Calls `handler` with every valid message from the matchmaker. */
  onMessage(handler: (message: MatchmakerToWorker) => void): void;
  /**
   * What a channel that reconnects sends first on every new connection: what the matchmaker must know again
   * (ready, the seats, the released seats, the phase). A channel that never drops ignores it.
   */
  resync(messages: () => WorkerToMatchmaker[]): void;
  /** Ends the host once the last messages had their chance to leave (`exiting` must reach the matchmaker). */
  end(code?: number): void;
}
