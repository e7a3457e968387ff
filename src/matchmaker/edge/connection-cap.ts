/**
 * At most N open TCP connections per client address to the HTTP listener, so that one address cannot take the
 * file descriptors every other client needs.
 *
 * Bun.serve has no per-connection hook: a socket that never sends a byte is never seen by `fetch`, is not closed
 * by `idleTimeout` (Bun closes such sockets after ~10 s whatever it is set to) nor by `closeIdleConnections()`.
 * So the guard looks from the outside, Linux only: every `intervalMs` it counts the process's fds; when there are
 * more than the cap, it asks each socket fd for its addresses (getsockname/getpeername through bun:ffi: a few
 * microseconds per fd, where reading /proc/net/tcp under a flood took 100-500 ms) and, for each address over the
 * cap, shuts the newest surplus connections of the listening port down with shutdown(2). shutdown never closes the fd: Bun sees end-of-stream and closes the
 * socket itself, so no fd is ever closed under its feet (and JS and Bun's sockets share one thread, so the fd
 * cannot change hands between the check and the call). The oldest connections of an address (its players'
 * WebSockets) are kept. Trusted proxies are exempt: all their clients share their address.
 *
 * A flood can still take every fd between two checks, and then the guard itself could not open /proc: it holds a
 * few spare fds (on /dev/null) and lets them go for the scan that sheds the flood, taking them back afterwards.
 */
import { closeSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import type { Logger } from '../../log.ts';
import { formatIp } from './cidr.ts';

export interface ConnectionCapOptions {
  /** Connections one address may hold; 0 turns the guard off. */
  perAddress: number;
  /** The listening TCP port(s) whose connections count. */
  ports: () => readonly number[];
  /** Addresses never capped (trusted proxies). */
  exempt: (address: string) => boolean;
  log: Logger;
  intervalMs?: number;
}

/** One connection of the listening port, as its fd tells. */
export interface OpenConnection {
  fd: number;
  remote: string;
  localPort: number;
  /** Socket inode: grows with creation, so it orders connections by age. */
  inode: number;
}

/** Which connections to shed: for every address over `cap`, its newest (highest inode) surplus. */
export function surplus(connections: readonly OpenConnection[], cap: number, exempt: (address: string) => boolean): Map<string, OpenConnection[]> {
  const byAddress = new Map<string, OpenConnection[]>();
  for (const c of connections) {
    const list = byAddress.get(c.remote);
    if (list) list.push(c);
    else byAddress.set(c.remote, [c]);
  }
  const shed = new Map<string, OpenConnection[]>();
  for (const [address, list] of byAddress) {
    if (list.length <= cap || exempt(address)) continue;
    list.sort((a, b) => a.inode - b.inode);
    shed.set(address, list.slice(cap));
  }
  return shed;
}

/** The three socket calls the guard makes, from libc. */
interface SocketCalls {
  shutdown(fd: number, how: number): number;
  /** The local and the peer address of a connected TCP socket; undefined for anything else. */
  addresses(fd: number): { localPort: number; remote: string } | undefined;
  /** Lets the dlopen handle go. */
  close(): void;
}

const AF_INET = 2;
const AF_INET6 = 10;

function decodeSockaddr(buffer: Buffer): { port: number; address: string } | undefined {
  const family = buffer.readUInt16LE(0);
  const port = buffer.readUInt16BE(2);
  if (family === AF_INET) return { port, address: [...buffer.subarray(4, 8)].join('.') };
  if (family === AF_INET6) {
    let value = 0n;
    for (const byte of buffer.subarray(8, 24)) value = (value << 8n) | BigInt(byte);
    return { port, address: formatIp(value) };
  }
  return undefined;
}

function loadSocketCalls(): SocketCalls | string {
  if (process.platform !== 'linux') return `the per-address connection cap needs Linux's /proc (this is ${process.platform})`;
  try {
    // Required lazily: bun:ffi exists in Bun and in the compiled binary, and nowhere else we run.
    const ffi = require('bun:ffi') as typeof import('bun:ffi');
    const { i32, ptr } = ffi.FFIType;
    const libc = ffi.dlopen('libc.so.6', {
      shutdown: { args: [i32, i32], returns: i32 },
      getsockname: { args: [i32, ptr, ptr], returns: i32 },
      getpeername: { args: [i32, ptr, ptr], returns: i32 },
    });
    const buffer = Buffer.alloc(128);
    const length = new Uint32Array(1);
    // The arrays themselves, not a cached ptr(): a small typed array may move, and a stale pointer reads zeros.
    const call = (fn: typeof libc.symbols.getsockname, fd: number) => {
      buffer.fill(0);
      length[0] = buffer.length;
      return fn(fd, buffer, length) === 0 ? decodeSockaddr(buffer) : undefined;
    };
    return {
      shutdown: (fd, how) => libc.symbols.shutdown(fd, how),
      addresses(fd) {
        const local = call(libc.symbols.getsockname, fd);
        if (!local) return undefined;
        // A listening socket (or a UDP one that is not connected) has no peer.
        const peer = call(libc.symbols.getpeername, fd);
        return peer && { localPort: local.port, remote: peer.address };
      },
      close: () => libc.close(),
    };
  } catch (error) {
    return `cannot load socket calls from libc: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const SHUT_RDWR = 2;
/** Enough for the scan: the /proc/self/fd directory and one /proc table at a time, with room to spare. */
const SPARE_FDS = 4;

export class ConnectionCap {
  /** Connections shut down because their address was over the cap. */
  shedTotal = 0;
  scans = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private calls: SocketCalls | undefined;
  private readonly spare: number[] = [];

  constructor(private readonly options: ConnectionCapOptions) {}

  /** Starts watching; returns why it cannot, when it cannot (the caller logs it once). */
  start(): string | undefined {
    if (this.options.perAddress <= 0 || this.timer !== undefined) return undefined;
    const loaded = loadSocketCalls();
    if (typeof loaded === 'string') return loaded;
    try {
      readdirSync('/proc/self/fd');
    } catch {
      loaded.close();
      return 'the per-address connection cap needs /proc/self/fd';
    }
    this.calls = loaded;
    this.takeSpares();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs ?? 100);
    this.timer.unref();
    return undefined;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.calls?.close();
    this.calls = undefined;
    this.releaseSpares();
  }

  private takeSpares(): void {
    while (this.spare.length < SPARE_FDS) {
      try {
        this.spare.push(openSync('/dev/null', 'r'));
      } catch {
        return; // out of fds right now: the next tick tries again
      }
    }
  }

  private releaseSpares(): void {
    for (const fd of this.spare.splice(0)) closeSync(fd);
  }

  /** One check; public for tests. Cheap while the process holds fewer fds than the cap. */
  tick(): void {
    if (!this.calls) return; // not started, or stopped
    const cap = this.options.perAddress;
    let fds: string[];
    try {
      fds = readdirSync('/proc/self/fd');
    } catch {
      // Out of fds (EMFILE): this is the flood. Spend the spares on the scan that sheds it.
      this.releaseSpares();
      try {
        fds = readdirSync('/proc/self/fd');
      } catch {
        return;
      }
    }
    try {
      if (fds.length > cap) this.scan(fds, cap);
    } finally {
      // Bun closes shed sockets on its next turn; until then this may fail, and the next tick retries.
      this.takeSpares();
    }
  }

  private scan(fds: readonly string[], cap: number): void {
    this.scans++;
    const calls = this.calls!;
    const ports = new Set(this.options.ports());
    const connections: OpenConnection[] = [];
    for (const name of fds) {
      const fd = Number(name);
      const inode = socketInode(fd);
      if (inode === undefined) continue;
      const addresses = calls.addresses(fd);
      if (addresses === undefined || !ports.has(addresses.localPort)) continue;
      connections.push({ fd, inode, ...addresses });
    }
    for (const [address, list] of surplus(connections, cap, this.options.exempt)) {
      let shed = 0;
      for (const c of list) {
        // Still the same socket? (Nothing can have closed it since the scan on this thread, but be sure.)
        if (socketInode(c.fd) !== c.inode) continue;
        if (calls.shutdown(c.fd, SHUT_RDWR) === 0) shed++;
      }
      this.shedTotal += shed;
      // A client-caused line: `conn.` events are sampled by the logger, never one line per attacker's scan.
      if (shed > 0) this.options.log.warn('conn.shed', { address, count: shed, reason: `over ${cap} connections from one address` });
    }
  }

  metrics(): string {
    return [
      '# HELP huddle_connections_shed_total TCP connections shut down because their address held more than --max-connections-per-address',
      '# TYPE huddle_connections_shed_total counter',
      `huddle_connections_shed_total ${this.shedTotal}`,
      '',
    ].join('\n');
  }
}

function socketInode(fd: number): number | undefined {
  try {
    const link = readlinkSync(`/proc/self/fd/${fd}`);
    return link.startsWith('socket:[') ? Number(link.slice(8, -1)) : undefined;
  } catch {
    return undefined;
  }
}
