/**
 * `--launcher process`: each game is a `huddle game` child process (game-process.ts), supervised over a WebSocket
 * to this matchmaker (channel-hub.ts) with the guarantees of launcher.ts's header (supervisor.ts keeps them).
 *
 * The child gets the contract as its whole environment (secrets only there: never argv, which /proc shows to
 * every user). It runs detached in its own process group, so a Ctrl-C in the matchmaker's terminal or a kill of
 * the matchmaker does not take it down; stdin is closed and its stdout/stderr go to a per-game log file in the
 * data dir (a pipe to a dead parent would kill it with EPIPE). A game it launched can be adopted by the next
 * matchmaker (`adopt`): by pid, checked against the process's start time so a recycled pid is not mistaken for it.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Subprocess } from 'bun';
import { type ChannelConnection, CHANNEL_CLOSE, type ChannelHub, type ChannelPeer, decodeChannelFrame } from './channel-hub.ts';
import type { AdoptSpec, GameHandle, GameLauncher, LaunchSpec, LauncherEvent, ProcessIdentity } from './launcher.ts';
import { Supervisor } from './supervisor.ts';
import { encodeWorkerEnv } from './worker-env.ts';
import { engineEnvironment } from '../engine-settings.ts';

export interface ProcessLauncherOptions {
  /** Where its games' channels arrive (the server mounts it on the report route's listener). */
  hub: ChannelHub;
  /** Where each game's stdout/stderr go (`<logDir>/<gameId>.log`, 0600); created 0700 if missing. */
  logDir: string;
  /** argv that runs `huddle game` (tests pass fixtures); the default runs this binary or this source tree. */
  command?: readonly string[];
  /** Passed as HUDDLE_MATCHMAKER_LOCATOR: the file naming this matchmaker's report base (it may move between starts). */
  locatorFile?: string;
  stopGraceMs?: number;
  /** If the process is not gone this long after SIGKILL, report the exit anyway. */
  closeBackstopMs?: number;
  /** Passed as HUDDLE_UDP_READS: how the game reads its UDP port (game-main.ts); absent, it is called back per datagram. */
  udpReads?: 'wakes' | 'each';
  /** How often an adopted process (not our child: no exit event) is checked for being alive. */
  pollMs?: number;
}

/** `huddle game` as this process can start it: the compiled binary itself, or Bun running this source tree. */
export function defaultGameCommand(): string[] {
  if (import.meta.url.includes('$bunfs')) return [process.execPath, 'game'];
  return [process.execPath, fileURLToPath(new URL('../index.ts', import.meta.url)), 'game'];
}

export class ProcessLauncher implements GameLauncher {
  readonly channels: ChannelHub;
  private readonly options: ProcessLauncherOptions;
  private readonly command: readonly string[];

  constructor(options: ProcessLauncherOptions) {
    this.options = options;
    this.channels = options.hub;
    this.command = options.command ?? defaultGameCommand();
  }

  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    mkdirSync(this.options.logDir, { recursive: true, mode: 0o700 });
    const logFile = logPath(this.options.logDir, spec.env.gameId);
    const fd = openSync(logFile, 'a', 0o600);
    let child: Subprocess;
    try {
      child = Bun.spawn({
        cmd: [...this.command],
        // The whole environment: the contract, the locator and huddle's engine settings (engine-settings.ts: read only
        // at a process's start, so they go here), nothing else of ours (no PATH, no HOME, no tokens).
        env: {
          ...encodeWorkerEnv(spec.env),
          ...(this.options.locatorFile ? { HUDDLE_MATCHMAKER_LOCATOR: this.options.locatorFile } : {}),
          ...(this.options.udpReads ? { HUDDLE_UDP_READS: this.options.udpReads } : {}),
          ...engineEnvironment(process.env),
        },
        stdin: 'ignore',
        stdout: fd,
        stderr: fd,
        detached: true,
      });
    } finally {
      // The child has its own copy.
      closeSync(fd);
    }
    const identity: ProcessIdentity = { pid: child.pid, startTime: processStartTime(child.pid) ?? '' };
    const handle = new SupervisedProcess(
      identity,
      { gameId: spec.env.gameId, port: spec.env.port, reportToken: spec.env.reportToken, logFile },
      { startTimeoutMs: spec.startTimeoutMs, heartbeatTimeoutMs: spec.heartbeatTimeoutMs, adopted: false },
      this.options,
      onEvent,
    );
    void child.exited.then(() => handle.exited(child.exitCode, child.signalCode === null ? null : String(child.signalCode)));
    return handle;
  }

  adopt(spec: AdoptSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    const handle = new SupervisedProcess(
      spec.process,
      { gameId: spec.gameId, port: spec.port, reportToken: spec.reportToken, logFile: logPath(this.options.logDir, spec.gameId) },
      { startTimeoutMs: spec.reconnectTimeoutMs, heartbeatTimeoutMs: spec.heartbeatTimeoutMs, adopted: true },
      this.options,
      onEvent,
    );
    handle.watchAdopted(this.options.pollMs ?? 100);
    return handle;
  }
}

function logPath(dir: string, gameId: string): string {
  return join(dir, `${gameId}.log`);
}

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone (or this is not Linux). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether the process `identity` names is still running (not a later process that got the same pid). */
export function processAlive(identity: ProcessIdentity): boolean {
  const startTime = processStartTime(identity.pid);
  if (startTime !== undefined) {
    if (identity.startTime !== '' && startTime !== identity.startTime) return false;
    // A zombie has exited (its port is free; only its parent has not reaped it yet), but only once its last
    // thread has: a thread-group leader shows Z while the other threads still hold the sockets.
    return !exitedUnreaped(identity.pid);
  }
  if (process.platform === 'linux') return false;
  try {
    process.kill(identity.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exitedUnreaped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'X') return true;
    return state === 'Z' && readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

interface GameIds {
  gameId: string;
  port: number;
  reportToken: string;
  logFile: string;
}

class SupervisedProcess implements GameHandle {
  readonly process: ProcessIdentity;
  private readonly supervisor: Supervisor;
  private readonly unregister: () => void;
  private peer: ChannelPeer | undefined;
  private pollTimer: Timer | undefined;
  private done = false;
  private killed = false;

  constructor(
    identity: ProcessIdentity,
    private readonly ids: GameIds,
    timing: { startTimeoutMs: number; heartbeatTimeoutMs: number; adopted: boolean },
    options: ProcessLauncherOptions,
    onEvent: (event: LauncherEvent) => void,
  ) {
    this.process = identity;
    this.supervisor = new Supervisor(
      {
        port: ids.port,
        startTimeoutMs: timing.startTimeoutMs,
        heartbeatTimeoutMs: timing.heartbeatTimeoutMs,
        stopGraceMs: options.stopGraceMs ?? 2000,
        closeBackstopMs: options.closeBackstopMs ?? 10000,
        adopted: timing.adopted,
        noun: 'game process',
      },
      (event) => {
        if (event.type === 'exit') this.finished(event);
        onEvent(event);
      },
      {
        deliver: (message) => {
          if (!this.peer) return false;
          this.peer.send(JSON.stringify(message));
          return true;
        },
        terminate: () => this.kill(),
      },
    );
    this.unregister = options.hub.register(ids.gameId, ids.reportToken, { connected: (peer) => this.connected(peer) });
  }

  stop(reason: string, graceMs?: number): void {
    this.supervisor.stop(reason, graceMs);
  }

  detach(): void {
    if (this.done) return;
    this.done = true;
    this.supervisor.detach();
    clearTimeout(this.pollTimer);
    this.unregister();
    this.peer?.close(1001, 'the matchmaker is restarting');
    this.peer = undefined;
  }

  /** Our own child ended (its exit status is ours to read, unlike a worker's). */
  exited(code: number | null, signal: string | null): void {
    // Our SIGKILL is not a crash: the supervisor already knows why it ended the game.
    if (!this.killed && (code !== 0 || signal !== null)) {
      const why = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
      const last = lastErrorLine(this.ids.logFile);
      this.supervisor.fail('crashed', `game process ${why}${last ? `: ${last}` : ''}`);
    }
    this.supervisor.gone();
  }

  /** An adopted process is not our child: poll until it is gone. */
  watchAdopted(pollMs: number): void {
    const check = (): void => {
      if (this.done) return;
      if (!processAlive(this.process)) {
        this.supervisor.gone();
        return;
      }
      this.pollTimer = setTimeout(check, pollMs);
    };
    check();
  }

  private connected(peer: ChannelPeer): ChannelConnection {
    // A newer connection wins: the older socket is half-dead or a race of reconnects.
    this.peer?.close(CHANNEL_CLOSE.replaced, 'replaced by a newer connection');
    this.peer = peer;
    if (this.supervisor.isReady) this.supervisor.armHeartbeat();
    return {
      message: (frame) => this.supervisor.message(decodeChannelFrame(frame)),
      closed: () => {
        // The game plays on and reconnects; silence past the heartbeat timeout is what fails it.
        if (this.peer === peer) this.peer = undefined;
      },
    };
  }

  private kill(): void {
    if (this.done || !processAlive(this.process)) return;
    this.killed = true;
    try {
      // Its own process group (detached): anything it started goes too.
      process.kill(-this.process.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(this.process.pid, 'SIGKILL');
      } catch {
        // Already gone: the exit (or the poll) reports it.
      }
    }
  }

  private finished(event: Extract<LauncherEvent, { type: 'exit' }>): void {
    this.done = true;
    clearTimeout(this.pollTimer);
    this.unregister();
    this.peer?.close(CHANNEL_CLOSE.gameGone, 'game over');
    this.peer = undefined;
    // A game that ended as it should leaves no log behind; a failed one keeps its log for the operator.
    if (event.cause === 'exiting' || event.cause === 'stopped') rmSync(this.ids.logFile, { force: true });
  }
}

/** The last line of a crashed game's log that names an error, for the exit's detail (the logger redacts secrets). */
function lastErrorLine(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').slice(-4096);
    const lines = text.split('\n').filter((line) => /\b\w*Error\b/.test(line));
    return lines.at(-1)?.trim().slice(0, 200);
  } catch {
    return undefined;
  }
}
