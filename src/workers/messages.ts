/**
 * The matchmaker's side of the supervision channel: the contract's schemas and types (src/contract, re-exported
 * here for older imports) and the run-time check of what a worker posts. Only the matchmaker loads this module at
 * run time (it compiles a TypeBox check); game code imports the contract's types, never this.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { WorkerToMatchmaker } from '../contract/worker-messages.ts';

export * from '../contract/worker-messages.ts';

const workerCheck = TypeCompiler.Compile(WorkerToMatchmaker);

/** Validates a message received from a worker (called in the matchmaker); null if it is not one. */
export function parseWorkerMessage(data: unknown): WorkerToMatchmaker | null {
  return workerCheck.Check(data) ? data : null;
}
