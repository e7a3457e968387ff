/**
 * What the worker needs to read the matchmaker's messages, without loading TypeBox: the schema lives in
 * src/contract/worker-messages.ts, its check is compiled ahead of time into src/game/validators.generated.ts.
 */
import { checkMatchmakerToWorker } from '../game/validators.generated.ts';
import type { MatchmakerToWorker } from '../contract/worker-messages.ts';

/** Validates a message received from the matchmaker (called in the worker); null if it is not one. */
export function parseMatchmakerMessage(data: unknown): MatchmakerToWorker | null {
  return checkMatchmakerToWorker(data) ? (data as MatchmakerToWorker) : null;
}
