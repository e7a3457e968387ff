/**
 * The Bun Worker host of a game (BunWorkerLauncher): the game main (game-main.ts) over the worker's message
 * channel. Its environment is exactly the contract (worker-env.ts); it ends with the thread.
 */
import { workerData } from 'node:worker_threads';
import { parseMatchmakerMessage } from './matchmaker-message.ts';
import type { WorkerToMatchmaker } from '../contract/worker-messages.ts';
import type { HostChannel } from './host-channel.ts';
import { parseWorkerEnv, type GameWorkerData } from './worker-env.ts';

const data = (workerData ?? {}) as GameWorkerData;
const { runGame } = await import('./game-main.ts');

declare const self: Worker;

const channel: HostChannel = {
  post: (message: WorkerToMatchmaker) => self.postMessage(message),
  onMessage: (handler) =>
    self.addEventListener('message', (event: MessageEvent) => {
      const message = parseMatchmakerMessage(event.data);
      if (message) handler(message);
    }),
  // postMessage never drops: nothing to send again.
  resync: () => {},
  // Let the channel deliver `exiting` before the thread ends.
  end: (code = 0) => setTimeout(() => process.exit(code), 10),
};

try {
  const udpFd = Number.isInteger(data.udpFd) && data.udpFd! >= 0 ? data.udpFd! : undefined;
  await runGame(parseWorkerEnv(process.env), channel, udpFd === undefined ? {} : { udpReads: { fd: udpFd } });
} catch (error) {
  // Messages from env parsing name the variable, never its value; socket errors carry no secrets.
  channel.post({ type: 'fatal', message: error instanceof Error ? `${error.name}: ${error.message}` : 'worker failed to start' });
}
