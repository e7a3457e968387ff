/**
 * Shared by the API fuzz, guessing and fault suites: a real `startServer` with real game workers behind a
 * launcher that remembers each game's secrets and handle, and counters of the resources a fault could leak.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../../src/config.ts';
import { type RunningServer, type ServeOptions, startServer } from '../../../src/matchmaker/server.ts';
import { ChannelHub } from '../../../src/workers/channel-hub.ts';
import { type AdoptSpec, BunWorkerLauncher, type GameHandle, type GameLauncher, type LaunchSpec, type LauncherEvent } from '../../../src/workers/launcher.ts';
import { ProcessLauncher } from '../../../src/workers/process-launcher.ts';
import { freePortRange, waitFor } from '../../matchmaker/support/env.ts';

export interface GameSecrets {
  gameId: string;
  privateKey: Uint8Array;
  /** As the worker sends it (base64url text). */
  reportToken: string;
}

/** Which real launcher a suite runs against: Bun Workers, or `huddle game` child processes. */
export type LauncherKind = 'worker' | 'process';
export const LAUNCHER_KINDS: readonly LauncherKind[] = ['worker', 'process'];

/**
 * A real launcher (a Bun Worker or a `huddle game` process a game), recording each game's secrets (read from the
 * env it is given, exactly what the game sees) and handle. `rewriteReportUrl` lets a fault test put its own server
 * between game and matchmaker (the process channel follows the report URL's origin: it goes through it too).
 */
export class RecordingLauncher implements GameLauncher {
  readonly handles = new Map<string, GameHandle>();
  readonly secrets = new Map<string, GameSecrets>();
  readonly exited = new Set<string>();
  rewriteReportUrl: ((url: string, gameId: string) => string) | undefined;
  private readonly inner: GameLauncher;
  readonly channels: ChannelHub | undefined;

  constructor(options: { stopGraceMs?: number; kind?: LauncherKind; logDir?: string } = {}) {
    const stopGraceMs = options.stopGraceMs ?? 500;
    if (options.kind === 'process') {
      this.channels = new ChannelHub();
      this.inner = new ProcessLauncher({ hub: this.channels, logDir: options.logDir ?? join(tmpdir(), 'huddle-games'), stopGraceMs });
    } else {
      this.channels = undefined;
      this.inner = new BunWorkerLauncher({ stopGraceMs });
    }
  }

  get adopt(): ((spec: AdoptSpec, onEvent: (event: LauncherEvent) => void) => GameHandle) | undefined {
    const inner = this.inner;
    return inner.adopt ? (spec, onEvent) => inner.adopt!(spec, onEvent) : undefined;
  }

  launch(spec: LaunchSpec, onEvent: (event: LauncherEvent) => void): GameHandle {
    const { gameId } = spec.env;
    // Copies: the registry zeroes its own bytes when the game ends, and a leak check must still know them.
    this.secrets.set(gameId, { gameId, privateKey: new Uint8Array(spec.env.privateKey), reportToken: spec.env.reportToken });
    const reportUrl = this.rewriteReportUrl?.(spec.env.reportUrl, gameId) ?? spec.env.reportUrl;
    const handle = this.inner.launch({ ...spec, env: { ...spec.env, reportUrl } }, (event) => {
      if (event.type === 'exit') this.exited.add(gameId);
      onEvent(event);
    });
    this.handles.set(gameId, handle);
    return handle;
  }

  /** Ends the game without letting it say goodbye (the thread terminated, the process SIGKILLed): a crash. */
  crash(gameId: string): void {
    const handle = this.handles.get(gameId);
    if (handle?.process) process.kill(handle.process.pid, 'SIGKILL');
    else (handle as unknown as { worker: Worker }).worker.terminate();
  }

  /** Kills every game process still running (they are detached: nothing else would). */
  killAll(): void {
    for (const handle of this.handles.values()) {
      if (!handle.process) continue;
      try {
        process.kill(handle.process.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

export interface Served {
  server: RunningServer;
  launcher: RecordingLauncher;
  config: Config;
  dataDir: string;
  /** Stops the server and removes its data directory. */
  close(): Promise<void>;
}

export async function serve(
  overrides: Partial<Config> = {},
  options: Pick<ServeOptions, 'extend' | 'log'> & { ports?: number; launcher?: LauncherKind } = {},
): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-hardening-'));
  const ports = options.ports ?? 4;
  const config: Config = {
    ...defaultConfig(),
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'data'),
    gamePorts: await freePortRange(ports),
    maxGames: ports,
    roundSeconds: 2,
    ...overrides,
  };
  const launcher = new RecordingLauncher({ kind: options.launcher ?? 'worker', logDir: join(config.dataDir, 'games') });
  const server = await startServer({ config, launcher, ...(options.extend ? { extend: options.extend } : {}), ...(options.log ? { log: options.log } : {}) });
  return {
    server,
    launcher,
    config,
    dataDir: config.dataDir,
    async close() {
      // Drain, whatever the launcher: a test's games must not outlive it.
      try {
        await server.stop('test over', 'drain');
      } finally {
        launcher.killAll();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Ends a live game through its handle and waits until the registry has its slot and port back. */
export async function endGame(served: Served, gameId: string, timeoutMs = 5000): Promise<void> {
  if (served.server.registry.resolveLive(gameId) || !served.launcher.exited.has(gameId)) served.launcher.handles.get(gameId)?.stop('test over', 0);
  await waitFor(() => served.launcher.exited.has(gameId), timeoutMs, `game ${gameId} to exit`);
}

/**
 * UDP sockets this process holds: the socket inodes among /proc/self/fd that appear in /proc/self/net/udp or
 * udp6 (workers are threads of this process, so their game sockets count too).
 */
export function udpSocketCount(): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1] as string);
    } catch {
      // the fd closed while we listed
    }
  }
  let count = 0;
  for (const table of ['/proc/self/net/udp', '/proc/self/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode && inodes.has(inode)) count++;
    }
  }
  return count;
}

export interface ResourceCount {
  live: number;
  freePorts: number;
  udpSockets: number;
}

export function resources(server: RunningServer): ResourceCount {
  return { live: server.registry.live, freePorts: server.registry.freePorts, udpSockets: udpSocketCount() };
}

/** Waits until the counts are back to `before` (workers close asynchronously), then returns them. */
export async function settledResources(server: RunningServer, before: ResourceCount, timeoutMs = 5000): Promise<ResourceCount> {
  const deadline = Date.now() + timeoutMs;
  let now = resources(server);
  while (Date.now() < deadline && (now.live !== before.live || now.freePorts !== before.freePorts || now.udpSockets > before.udpSockets)) {
    await Bun.sleep(20);
    now = resources(server);
  }
  return now;
}

/** Every text form a secret could leak in: base64 (padded or not), base64url, hex in either case. */
export function secretForms(secret: Uint8Array): string[] {
  const buffer = Buffer.from(secret);
  const base64 = buffer.toString('base64');
  const hex = buffer.toString('hex');
  return [...new Set([base64, base64.replace(/=+$/, ''), buffer.toString('base64url'), hex, hex.toUpperCase()])];
}

/** Needles for every known game's private key and reporting token. */
export function secretNeedles(launcher: RecordingLauncher): string[] {
  const needles: string[] = [];
  for (const s of launcher.secrets.values()) {
    needles.push(...secretForms(s.privateKey), ...secretForms(new Uint8Array(Buffer.from(s.reportToken, 'base64url'))));
  }
  return needles;
}

export { freePortRange, waitFor };
