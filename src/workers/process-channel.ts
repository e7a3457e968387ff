/**
 * The supervision channel of a `huddle game` process: a WebSocket to the matchmaker's
 * `/internal/games/:id/channel` on the listener the reports use, authenticated with the reporting token (a header,
 * never the URL). JSON text frames carry the same messages as a worker's postMessage.
 *
 * The game outlives its matchmaker: when the socket drops, the game plays on and the channel reconnects with
 * backoff; each new connection first carries the game's resync (ready, seats, released seats, phase), then what
 * could not be sent while it was down and must not be lost (`exiting`, `fatal`). Heartbeats and the like posted
 * while down are dropped: the resync says the same, newer. Where the matchmaker listens may change between its
 * starts (`--port 0`, the TLS report listener's random port): the locator file it writes at start
 * (HUDDLE_MATCHMAKER_LOCATOR) names its current report base, read before every attempt.
 */
import { readFileSync } from 'node:fs';
import type { MatchmakerToWorker, WorkerToMatchmaker } from '../contract/worker-messages.ts';
import type { HostChannel } from './host-channel.ts';
import { parseMatchmakerMessage } from './matchmaker-message.ts';

export const RECONNECT_FIRST_MS = 50;
export const RECONNECT_MAX_MS = 2000;
/** How long an ending game waits for a connection to deliver `exiting` before it exits anyway. */
export const END_WAIT_MS = 3000;

export interface ProcessChannelOptions {
  gameId: string;
  /** The report URL from the environment: its origin is the base when no locator names a newer one. */
  reportUrl: string;
  reportToken: string;
  /** HUDDLE_MATCHMAKER_LOCATOR: a JSON file `{"reportBase": "http://127.0.0.1:PORT"}`. */
  locatorFile?: string;
  /** Called once when no matchmaker was reachable for `orphanAfterMs` (the game then ends itself). */
  onOrphaned?: () => void;
  orphanAfterMs?: number;
  /** Ends the process (tests pass a spy). */
  exit?: (code: number) => void;
}

/** The base URL the reports and the channel use now: the locator's if it names a valid one, else the env's. */
export function currentReportBase(reportUrl: string, locatorFile: string | undefined): string {
  if (locatorFile !== undefined) {
    try {
      const located: unknown = JSON.parse(readFileSync(locatorFile, 'utf8'));
      const base = typeof located === 'object' && located !== null ? (located as { reportBase?: unknown }).reportBase : undefined;
      if (typeof base === 'string' && URL.canParse(base) && /^https?:$/.test(new URL(base).protocol)) return new URL(base).origin;
    } catch {
      // No locator yet, or half-written by a matchmaker starting right now: the env's base, and try again later.
    }
  }
  return new URL(reportUrl).origin;
}

export function reportUrlFor(base: string, gameId: string): string {
  return `${base}/internal/games/${encodeURIComponent(gameId)}/report`;
}

function channelUrlFor(base: string, gameId: string): string {
  return `${base.replace(/^http/, 'ws')}/internal/games/${encodeURIComponent(gameId)}/channel`;
}

const KEPT_WHILE_DOWN = new Set<WorkerToMatchmaker['type']>(['exiting', 'fatal']);

export class ProcessChannel implements HostChannel {
  private socket: WebSocket | undefined;
  private open = false;
  private handler: ((message: MatchmakerToWorker) => void) | undefined;
  private resyncMessages: (() => WorkerToMatchmaker[]) | undefined;
  private readonly pending: WorkerToMatchmaker[] = [];
  private delay = RECONNECT_FIRST_MS;
  private retryTimer: Timer | undefined;
  private orphanTimer: Timer | undefined;
  private ending = false;
  private exitCode = 0;
  private stopped = false;

  constructor(private readonly options: ProcessChannelOptions) {
    this.armOrphan();
    this.connect();
  }

  get connected(): boolean {
    return this.open;
  }

  /** The report URL to use now (the locator may name a newer matchmaker address). */
  reportUrl(): string {
    return reportUrlFor(currentReportBase(this.options.reportUrl, this.options.locatorFile), this.options.gameId);
  }

  post(message: WorkerToMatchmaker): void {
    if (this.open && this.socket) this.socket.send(JSON.stringify(message));
    else if (KEPT_WHILE_DOWN.has(message.type)) this.pending.push(message);
  }

  onMessage(handler: (message: MatchmakerToWorker) => void): void {
    this.handler = handler;
  }

  resync(messages: () => WorkerToMatchmaker[]): void {
    this.resyncMessages = messages;
  }

  end(code = 0): void {
    if (this.ending) return;
    this.ending = true;
    this.exitCode = code;
    if (this.open) this.finish();
    // Down: give a reconnection a moment to carry `exiting`, then go anyway.
    else setTimeout(() => this.finish(), END_WAIT_MS).unref?.();
  }

  /** Closes the socket for good without ending the process (tests). */
  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.orphanTimer);
    this.socket?.close();
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.orphanTimer);
    const socket = this.socket;
    const exit = this.options.exit ?? ((code: number) => process.exit(code));
    // Let the socket write what is buffered (`exiting`), then close it and end.
    const started = Date.now();
    const drain = (): void => {
      if (socket && this.open && socket.bufferedAmount > 0 && Date.now() - started < 1000) {
        setTimeout(drain, 5);
        return;
      }
      socket?.close(1000, 'exiting');
      setTimeout(() => exit(this.exitCode), 10);
    };
    drain();
  }

  private connect(): void {
    if (this.stopped) return;
    const base = currentReportBase(this.options.reportUrl, this.options.locatorFile);
    let socket: WebSocket;
    try {
      socket = new WebSocket(channelUrlFor(base, this.options.gameId), {
        headers: { authorization: `Bearer ${this.options.reportToken}` },
      } as unknown as string[]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.open = true;
      this.delay = RECONNECT_FIRST_MS;
      clearTimeout(this.orphanTimer);
      for (const message of this.resyncMessages?.() ?? []) socket.send(JSON.stringify(message));
      for (const message of this.pending.splice(0)) socket.send(JSON.stringify(message));
      if (this.ending) this.finish();
    };
    socket.onmessage = (event) => {
      let data: unknown;
      try {
        data = JSON.parse(typeof event.data === 'string' ? event.data : new TextDecoder().decode(event.data as ArrayBuffer));
      } catch {
        return;
      }
      const message = parseMatchmakerMessage(data);
      if (message) this.handler?.(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      const wasOpen = this.open;
      this.open = false;
      this.socket = undefined;
      if (wasOpen) this.armOrphan();
      this.scheduleReconnect();
    };
    // An error is followed by close, which reconnects.
    socket.onerror = () => {};
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    // Jittered so that many games of a restarted matchmaker do not knock at the same instant.
    const wait = this.delay * (0.8 + Math.random() * 0.4);
    this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  private armOrphan(): void {
    clearTimeout(this.orphanTimer);
    const after = this.options.orphanAfterMs;
    if (after === undefined || !this.options.onOrphaned) return;
    this.orphanTimer = setTimeout(() => {
      if (!this.open && !this.stopped) this.options.onOrphaned?.();
    }, after);
  }
}
