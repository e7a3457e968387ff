/**
 * The player's side of the arena: decodes snapshots against the baselines it holds, and every client tick
 * turns the player's controls into an input packet (the last few ticks repeated, with the ack of the newest
 * snapshot). Shared by the bot (controls from the bot brain) and the browser (controls from the keyboard).
 */
import { InputHistory } from './codec/input.ts';
import { SnapshotReceiver } from './codec/snapshot-stream.ts';
import type { Controls } from './sim/controls.ts';
import type { WorldView } from './sim/view.ts';

export class ArenaClient {
  private readonly receiver = new SnapshotReceiver();
  private readonly inputs = new InputHistory();
  /** The view before `latest`, for interpolating ships. */
  private previousView: WorldView | undefined;
  /** Snapshots that did not decode (garbage or an unknown baseline). */
  rejectedSnapshots = 0;
  receivedSnapshots = 0;

  /** A snapshot from the Snapshot channel; whether it decoded. */
  receive(bytes: Uint8Array): boolean {
    const before = this.receiver.latest;
    const result = this.receiver.receive(bytes);
    if (!result.ok) {
      this.rejectedSnapshots++;
      return false;
    }
    this.receivedSnapshots++;
    if (this.receiver.latest !== before) this.previousView = before;
    return true;
  }

  get latest(): WorldView | undefined {
    return this.receiver.latest;
  }

  get previous(): WorldView | undefined {
    return this.previousView;
  }

  /** This client tick's input packet for the Input channel. */
  input(controls: Controls): Uint8Array {
    return this.inputs.next(controls, this.receiver.ackTick);
  }
}
