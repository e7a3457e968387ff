/**
 * A UDP socket that a game reads at its own loop's wakes, instead of being woken for each datagram.
 *
 * Bun's UDP socket (udp.ts) calls its handler once per datagram, from a wake of its own when datagrams come spaced
 * out, as a playing game's ~400 a second do. bench/datagrams.ts measured that at 10–16 ms of CPU a second per game
 * on its own, more than a whole game's budget. The netcode reference server reads whatever waits at each update;
 * this does the same through libc (`bun:ffi`): a non-blocking socket, `recvmsg` until the kernel has nothing, at
 * the times the game wakes anyway.
 *
 * Linux only (glibc or musl, x86-64 or arm64: the structs below are laid out for 64-bit little-endian): `polledUdpSupport()` says whether it can be used here, and why not;
 * elsewhere the game keeps the callback socket. The descriptor is a plain number, so the launcher of a Bun Worker
 * game binds it (`bindUdpFd`) and closes it when the worker is gone (`closeUdpFd`): a worker that is terminated
 * cannot leave its port bound behind it. A `huddle game` process binds its own, and its exit closes it.
 */
import { dlopen, FFIType, ptr, read } from 'bun:ffi';
import { addressFromParts, formatIpv6, isIpLiteral } from '../netcode/address.ts';
import type { DatagramTransport } from './transport.ts';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
/** recvmsg then returns a datagram's real length, so one longer than the buffer is known and dropped, not cut. */
const MSG_TRUNC = 0x20;
/** In recvmsg's flags: the control buffer was too small, so what it holds is cut short. */
const MSG_CTRUNC = 0x08;
const EAGAIN = 11;
const EINTR = 4;
const SOL_SOCKET = 1;
/** Each datagram carries the kernel's receive time (CLOCK_REALTIME, µs) as a control message. */
const SO_TIMESTAMP = 29;
const CLOCK_REALTIME = 0;
/**
 * A datagram's age as the kernel's stamp gives it is believed up to this: past it (a wall clock stepped between the
 * stamp and the read) the datagram counts as just arrived.
 */
const MAX_AGE_SECONDS = 1;
const MSGHDR_BYTES = 56;
const CONTROL_BYTES = 64;
const SOCKADDR_IN_BYTES = 16;
const SOCKADDR_IN6_BYTES = 28;
/** The largest datagram handed over; netcode's packets are at most 1300 bytes, so anything longer is junk. */
const RECEIVE_BYTES = 2048;
/**
 * At most this many datagrams per drain: a flood waiting in the kernel must not hold the loop for long. What is
 * left is read at the next wake (or dropped by the kernel when its buffer is full, as a flood's datagrams should be).
 */
export const DRAIN_LIMIT = 512;
/** Host strings and socket addresses kept per socket, so a steady peer costs no formatting or parsing. */
const CACHE_LIMIT = 1024;
const ERRNO_NAMES: Readonly<Record<number, string>> = { 1: 'EPERM', 13: 'EACCES', 22: 'EINVAL', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 97: 'EAFNOSUPPORT' };

const SYMBOLS = {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64_fast },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64_fast },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

type Libc = ReturnType<typeof dlopen<typeof SYMBOLS>>['symbols'];

export type PolledUdpSupport = { ok: true } | { ok: false; why: string };

let loaded: { libc: Libc } | { why: string } | undefined;

function load(): { libc: Libc } | { why: string } {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { why: `not on ${process.platform} (Linux only)` });
  // msghdr, cmsghdr and the iovec are written with 64-bit pointers and lengths, little-endian.
  if (process.arch !== 'x64' && process.arch !== 'arm64') return (loaded = { why: `not on ${process.arch} (x64 and arm64 only)` });
  const errors: string[] = [];
  // glibc, then musl's names.
  for (const name of ['libc.so.6', `libc.musl-${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}.so.1`, 'libc.so']) {
    try {
      return (loaded = { libc: dlopen(name, SYMBOLS).symbols });
    } catch (error) {
      errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return (loaded = { why: `libc could not be opened (${errors.join('; ')})` });
}

/** Whether this process can read UDP at its wakes (Linux, libc reachable through bun:ffi), and why not. */
export function polledUdpSupport(): PolledUdpSupport {
  const state = load();
  return 'libc' in state ? { ok: true } : { ok: false, why: state.why };
}

/**
 * Why a game bound to `bindHost` cannot read at its wakes here (then it reads `each` datagram as it comes), or
 * undefined when it can: the one rule the launchers, `huddle game` and the server's start-up warning share.
 */
export function polledUdpUnavailable(bindHost: string): string | undefined {
  const support = polledUdpSupport();
  if (!support.ok) return support.why;
  return isIpLiteral(bindHost) ? undefined : `--host ${bindHost} is a name, not an IP address`;
}

function libc(): Libc {
  const state = load();
  if (!('libc' in state)) throw new Error(`UDP reads at wakes are not available: ${state.why}`);
  return state.libc;
}

function errno(c: Libc): number {
  return read.i32(c.__errno_location()!, 0);
}

export class UdpBindError extends Error {
  override readonly name = 'UdpBindError';
}

/** The socket address of an IP literal and port, in the kernel's layout. Throws AddressParseError otherwise. */
function sockaddrOf(host: string, port: number): Uint8Array {
  const address = addressFromParts(host, port);
  if (address.family === 'ipv4') {
    const out = new Uint8Array(SOCKADDR_IN_BYTES);
    const view = new DataView(out.buffer);
    view.setUint16(0, AF_INET, true);
    view.setUint16(2, port, false);
    out.set(address.octets, 4);
    return out;
  }
  const out = new Uint8Array(SOCKADDR_IN6_BYTES);
  const view = new DataView(out.buffer);
  view.setUint16(0, AF_INET6, true);
  view.setUint16(2, port, false);
  address.groups.forEach((group, i) => view.setUint16(8 + i * 2, group, false));
  return out;
}

/**
 * Binds a non-blocking, close-on-exec UDP socket to `hostname` (an IP literal) and `port`, and returns its
 * descriptor, which the caller owns. Throws UdpBindError naming the errno (EADDRINUSE: the port is taken).
 */
export function bindUdpFd(hostname: string, port: number): number {
  const c = libc();
  const address = sockaddrOf(hostname, port);
  const family = address.length === SOCKADDR_IN_BYTES ? AF_INET : AF_INET6;
  const fd = c.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new UdpBindError(`cannot open a UDP socket (${errnoName(errno(c))})`);
  if (c.bind(fd, ptr(address), address.length) !== 0) {
    const code = errno(c);
    c.close(fd);
    throw new UdpBindError(`cannot bind UDP ${hostname.includes(':') ? `[${hostname}]` : hostname}:${port} (${errnoName(code)})`);
  }
  // Without it (it never fails on Linux) datagrams simply count as arriving when they are read.
  const on = new Int32Array([1]);
  c.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, ptr(on), on.byteLength);
  return fd;
}

export function closeUdpFd(fd: number): void {
  libc().close(fd);
}

/** The port a bound descriptor listens on. */
export function udpFdPort(fd: number): number {
  const c = libc();
  const address = new Uint8Array(SOCKADDR_IN6_BYTES);
  const length = new Uint32Array([address.length]);
  if (c.getsockname(fd, ptr(address), ptr(length)) !== 0) throw new UdpBindError(`not a bound socket (${errnoName(errno(c))})`);
  return new DataView(address.buffer).getUint16(2, false);
}

function errnoName(code: number): string {
  return ERRNO_NAMES[code] ?? `errno ${code}`;
}

/**
 * A datagram read at a wake: its bytes (a copy the handler may keep), its sender, and how long it had waited in the
 * kernel, in seconds (0 when the kernel did not say).
 */
export type PolledDatagramHandler = (data: Uint8Array, host: string, port: number, ageSeconds: number) => void;

export interface PolledUdpOptions {
  /** Whether `close()` closes the descriptor: false when the launcher owns it and closes it after the game. */
  owned: boolean;
  /** Receive and send errors other than "nothing waiting"; by default ignored, as udp.ts does (a lost datagram). */
  onError?: (error: Error) => void;
}

/** A bound descriptor as a transport whose datagrams are read by `drain`, never by a callback. */
export class PolledUdpSocket implements DatagramTransport {
  readonly localPort: number;
  private readonly c: Libc;
  private closed = false;
  // Every array whose address is kept (and handed to the kernel at each call) sits on an ArrayBuffer made for it:
  // JSC may move a small typed array's storage the first time its buffer is asked for, which would leave a kept
  // pointer aimed at freed memory. An explicit ArrayBuffer's storage never moves.
  private readonly buffer = new Uint8Array(new ArrayBuffer(RECEIVE_BYTES));
  private readonly bufferPtr = ptr(this.buffer);
  private readonly from = new Uint8Array(new ArrayBuffer(SOCKADDR_IN6_BYTES));
  private readonly fromView = new DataView(this.from.buffer);
  private readonly fromPtr = ptr(this.from);
  /** recvmsg's header, its one iovec and its control buffer, laid out once (x86-64 and arm64 Linux; musl alike). */
  private readonly header = new DataView(new ArrayBuffer(MSGHDR_BYTES));
  private readonly headerPtr = ptr(this.header);
  private readonly control = new DataView(new ArrayBuffer(CONTROL_BYTES));
  private readonly iov = new DataView(new ArrayBuffer(16));
  private readonly clock = new BigInt64Array(new ArrayBuffer(16));
  private readonly clockPtr = ptr(this.clock);
  private readonly to = new Uint8Array(new ArrayBuffer(SOCKADDR_IN6_BYTES));
  private readonly toView = new DataView(this.to.buffer);
  private readonly toPtr = ptr(this.to);
  /** IPv4 peers' host strings by their address as a u32; IPv6 ones are formatted each time. */
  private readonly ipv4Hosts = new Map<number, string>();
  /** Socket addresses (port 0) by host string, learnt from datagrams received or parsed once. */
  private readonly addresses = new Map<string, Uint8Array>();

  constructor(
    private readonly fd: number,
    private readonly options: PolledUdpOptions,
  ) {
    this.c = libc();
    this.localPort = udpFdPort(fd);
    this.iov.setBigUint64(0, BigInt(this.bufferPtr), true);
    this.iov.setBigUint64(8, BigInt(RECEIVE_BYTES), true);
    this.header.setBigUint64(0, BigInt(this.fromPtr), true);
    this.header.setBigUint64(16, BigInt(ptr(this.iov)), true);
    this.header.setBigUint64(24, 1n, true);
    this.header.setBigUint64(32, BigInt(ptr(this.control)), true);
  }

  /**
   * Hands each datagram waiting in the kernel to `handler` (a copy it may keep), in arrival order, up to `max`;
   * returns how many were read (one longer than RECEIVE_BYTES is read and dropped). Never blocks.
   */
  drain(handler: PolledDatagramHandler, max = DRAIN_LIMIT): number {
    const c = this.c;
    const header = this.header;
    let count = 0;
    let errors = 0;
    // The wall clock once per drain: a drain takes microseconds, and only differences with the stamps are used.
    c.clock_gettime(CLOCK_REALTIME, this.clockPtr);
    const nowUs = Number(this.clock[0]!) * 1e6 + Number(this.clock[1]!) / 1000;
    while (count < max && !this.closed) {
      header.setUint32(8, SOCKADDR_IN6_BYTES, true);
      header.setBigUint64(40, BigInt(CONTROL_BYTES), true);
      const length = c.recvmsg(this.fd, this.headerPtr, MSG_DONTWAIT | MSG_TRUNC) as number;
      if (length < 0) {
        const code = errno(c);
        if (code === EAGAIN) break;
        // An unconnected socket without IP_RECVERR is not told of ICMP errors, so this is rare (EINTR, or a socket
        // that broke): read on a few times, then end this drain, so a broken socket cannot spin the loop.
        if (code !== EINTR) this.options.onError?.(new Error(`UDP receive failed (${errnoName(code)})`));
        if (++errors >= 4) break;
        continue;
      }
      count++;
      if (length > RECEIVE_BYTES) continue;
      const host = this.peerHost();
      if (host === undefined) continue;
      handler(this.buffer.slice(0, length), host, this.fromView.getUint16(2, false), this.ageSeconds(nowUs));
    }
    return count;
  }

  /** Sends one datagram; true when the kernel took it (a full send buffer, a closed socket or an error: false). */
  send(data: Uint8Array, host: string, port: number): boolean {
    // ptr() refuses an empty array; netcode never sends one, but a send must not throw into the game's tick.
    if (this.closed || data.length === 0) return false;
    // The kernel takes the port as 16 bits: 65536 + p would reach p.
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      this.options.onError?.(new Error('UDP send to a port outside 1..65535'));
      return false;
    }
    let address = this.addresses.get(host);
    if (address === undefined) {
      try {
        address = sockaddrOf(host, 0);
      } catch {
        this.options.onError?.(new Error('UDP send to a host that is not an IP address'));
        return false;
      }
      this.remember(host, address);
    }
    this.to.set(address);
    this.toView.setUint16(2, port, false);
    const sent = this.c.sendto(this.fd, ptr(data), data.length, MSG_DONTWAIT, this.toPtr, address.length) as number;
    // A full send buffer (EAGAIN) is a lost datagram, which the protocol tolerates, as udp.ts does.
    if (sent >= 0) return true;
    const code = errno(this.c);
    if (code !== EAGAIN) this.options.onError?.(new Error(`UDP send failed (${errnoName(code)})`));
    return false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.options.owned) this.c.close(this.fd);
  }

  /**
   * How long the datagram just read waited, from its SO_TIMESTAMP control message (0 without one: "just arrived").
   * Linux turns receive stamps on for the whole system a moment after the first socket asks, so the very first
   * datagrams after a start can come without one.
   */
  private ageSeconds(nowUs: number): number {
    const control = this.control;
    const length = Number(this.header.getBigUint64(40, true));
    // One control message is asked for; look at the first only, whole (its own length) and not cut short.
    if (length < 32 || (this.header.getInt32(48, true) & MSG_CTRUNC) !== 0) return 0;
    if (Number(control.getBigUint64(0, true)) < 32 || control.getInt32(8, true) !== SOL_SOCKET || control.getInt32(12, true) !== SO_TIMESTAMP) return 0;
    const stampUs = Number(control.getBigInt64(16, true)) * 1e6 + Number(control.getBigInt64(24, true));
    const age = (nowUs - stampUs) / 1e6;
    return age > 0 && age <= MAX_AGE_SECONDS ? age : 0;
  }

  /** The sender of the datagram just read, as a host string (the form Bun's socket reports), or undefined. */
  private peerHost(): string | undefined {
    const view = this.fromView;
    const family = view.getUint16(0, true);
    if (family === AF_INET) {
      const key = view.getUint32(4, false);
      let host = this.ipv4Hosts.get(key);
      if (host === undefined) {
        host = `${key >>> 24}.${(key >>> 16) & 0xff}.${(key >>> 8) & 0xff}.${key & 0xff}`;
        if (this.ipv4Hosts.size >= CACHE_LIMIT) this.ipv4Hosts.clear();
        this.ipv4Hosts.set(key, host);
        const address = this.from.slice(0, SOCKADDR_IN_BYTES);
        address[2] = address[3] = 0;
        this.remember(host, address);
      }
      return host;
    }
    if (family !== AF_INET6) return undefined;
    const groups: number[] = [];
    for (let i = 0; i < 8; i++) groups.push(view.getUint16(8 + i * 2, false));
    // IPv4-mapped addresses (IPv4 peers of a dual-stack socket) keep their dotted form, as Bun reports them.
    const host = formatIpv6(groups);
    if (!this.addresses.has(host)) {
      const address = this.from.slice(0, SOCKADDR_IN6_BYTES);
      address[2] = address[3] = 0;
      this.remember(host, address);
    }
    return host;
  }

  private remember(host: string, address: Uint8Array): void {
    if (this.addresses.size >= CACHE_LIMIT) this.addresses.clear();
    this.addresses.set(host, address);
  }
}
