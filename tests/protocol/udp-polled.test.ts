/**
 * The UDP socket read at the game's wakes (src/protocol/transport/udp-polled.ts), against Bun's own UDP sockets as
 * peers on loopback (127.x only; the IPv6 paths are not exercised here): what `drain` hands over (order, sender, copies, the limit, oversized and refused datagrams),
 * what `send` reaches, and who owns the descriptor.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { udp } from 'bun';
import { readdirSync } from 'node:fs';
import { AddressParseError, isIpLiteral } from '../../src/protocol/netcode/address.ts';
import { bindUdpFd, closeUdpFd, DRAIN_LIMIT, PolledUdpSocket, polledUdpSupport, polledUdpUnavailable, UdpBindError, udpFdPort } from '../../src/protocol/transport/udp-polled.ts';
import { freeUdpPort } from '../matchmaker/support/env.ts';

const supported = polledUdpSupport().ok;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

interface Peer {
  socket: udp.Socket<'uint8array'>;
  received: { text: string; host: string; port: number }[];
}

async function peer(hostname: string): Promise<Peer> {
  const received: Peer['received'] = [];
  const socket = await Bun.udpSocket({
    hostname,
    port: 0,
    binaryType: 'uint8array',
    socket: {
      data: (_s, data, port, host) => {
        received.push({ text: Buffer.from(data).toString(), host, port });
      },
    },
  });
  cleanups.push(() => socket.close());
  return { socket, received };
}

function polled(hostname: string, port = 0): PolledUdpSocket {
  const socket = new PolledUdpSocket(bindUdpFd(hostname, port), { owned: true });
  cleanups.push(() => socket.close());
  return socket;
}

/** Drains until `count` datagrams were read or a second passed (loopback delivery is not instant). */
async function drainAll(socket: PolledUdpSocket, count: number, max?: number): Promise<{ text: string; host: string; port: number; data: Uint8Array }[]> {
  const got: { text: string; host: string; port: number; data: Uint8Array }[] = [];
  const deadline = performance.now() + 1000;
  while (got.length < count && performance.now() < deadline) {
    socket.drain((data, host, port) => got.push({ text: Buffer.from(data).toString(), host, port, data }), max);
    if (got.length < count) await Bun.sleep(5);
  }
  return got;
}

async function until(check: () => boolean): Promise<void> {
  const deadline = performance.now() + 1000;
  while (!check() && performance.now() < deadline) await Bun.sleep(5);
}

describe.skipIf(!supported)('PolledUdpSocket (reads at wakes)', () => {
  test('drain hands over what waits, in order, with the sender, each a copy; nothing waiting is 0 at once', async () => {
    const socket = polled('127.0.0.1');
    const from = await peer('127.0.0.1');
    const started = performance.now();
    expect(socket.drain(() => {})).toBe(0);
    expect(performance.now() - started).toBeLessThan(50);
    for (const text of ['one', 'two', 'three']) from.socket.send(text, socket.localPort, '127.0.0.1');
    const got = await drainAll(socket, 3);
    expect(got.map((g) => g.text)).toEqual(['one', 'two', 'three']);
    expect(got.every((g) => g.host === '127.0.0.1' && g.port === from.socket.port)).toBe(true);
    // The buffer read into is reused: what the handler kept must not change with the next datagram.
    from.socket.send('four', socket.localPort, '127.0.0.1');
    await drainAll(socket, 1);
    expect(Buffer.from(got[0]!.data).toString()).toBe('one');
  });

  test('send reaches the sender of a datagram (its address learnt from it, or parsed from the host)', async () => {
    const socket = polled('127.0.0.1');
    const other = await peer('127.0.0.1');
    other.socket.send('ping', socket.localPort, '127.0.0.1');
    const [got] = await drainAll(socket, 1);
    socket.send(new TextEncoder().encode('pong'), got!.host, got!.port);
    // A host never heard from (another 127.x address) is parsed; a name is not sent to (the game only answers).
    const third = await peer('127.0.0.2');
    const errors: string[] = [];
    const reporting = new PolledUdpSocket(bindUdpFd('127.0.0.1', 0), { owned: true, onError: (e) => errors.push(e.message) });
    cleanups.push(() => reporting.close());
    reporting.send(new TextEncoder().encode('hello'), '127.0.0.2', third.socket.port);
    reporting.send(new TextEncoder().encode('hello'), 'localhost', third.socket.port);
    await until(() => other.received.length > 0 && third.received.length > 0);
    expect(other.received).toEqual([{ text: 'pong', host: '127.0.0.1', port: socket.localPort }]);
    expect(third.received).toEqual([{ text: 'hello', host: '127.0.0.1', port: reporting.localPort }]);
    expect(errors).toEqual(['UDP send to a host that is not an IP address']);
  });

  test("each datagram comes with how long it waited in the kernel (its SO_TIMESTAMP), so a wake's delay is known", async () => {
    const socket = polled('127.0.0.1');
    const from = await peer('127.0.0.1');
    from.socket.send('old', socket.localPort, '127.0.0.1');
    await Bun.sleep(80);
    from.socket.send('new', socket.localPort, '127.0.0.1');
    await Bun.sleep(5);
    const ages = new Map<string, number>();
    socket.drain((data, _host, _port, age) => ages.set(Buffer.from(data).toString(), age));
    expect(ages.get('old')).toBeGreaterThanOrEqual(0.07);
    expect(ages.get('old')).toBeLessThan(1);
    expect(ages.get('new')!).toBeLessThan(ages.get('old')! - 0.05);
  });

  test('a drain reads at most its limit; the rest waits for the next', async () => {
    expect(DRAIN_LIMIT).toBeGreaterThanOrEqual(64);
    const socket = polled('127.0.0.1');
    const from = await peer('127.0.0.1');
    for (let i = 0; i < 10; i++) from.socket.send(`m${i}`, socket.localPort, '127.0.0.1');
    await Bun.sleep(30);
    const first: string[] = [];
    expect(socket.drain((data) => first.push(Buffer.from(data).toString()), 4)).toBe(4);
    expect(first).toEqual(['m0', 'm1', 'm2', 'm3']);
    const rest = await drainAll(socket, 6);
    expect(rest.map((r) => r.text)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  });

  test('a datagram longer than the buffer (2048 bytes) is dropped whole, not cut; a send to a closed port reports nothing and stops no reads', async () => {
    const socket = polled('127.0.0.1');
    const from = await peer('127.0.0.1');
    from.socket.send(new Uint8Array(2048).fill(66), socket.localPort, '127.0.0.1');
    from.socket.send(new Uint8Array(2049).fill(65), socket.localPort, '127.0.0.1');
    from.socket.send('after', socket.localPort, '127.0.0.1');
    await Bun.sleep(30);
    const got: string[] = [];
    expect(socket.drain((data) => got.push(data.length === 2048 ? `2048 × ${String.fromCharCode(data[0]!)}` : Buffer.from(data).toString()))).toBe(3);
    expect(got).toEqual(['2048 × B', 'after']);
    // A send to a closed port comes back as ICMP "port unreachable"; an unconnected socket without IP_RECVERR is not
    // told, so nothing is reported and the reads go on (Bun's own socket would surface it as ECONNREFUSED).
    const closedPort = await freeUdpPort();
    const errors: string[] = [];
    const reporting = new PolledUdpSocket(bindUdpFd('127.0.0.1', 0), { owned: true, onError: (e) => errors.push(e.message) });
    cleanups.push(() => reporting.close());
    reporting.send(new TextEncoder().encode('anyone?'), '127.0.0.1', closedPort);
    await Bun.sleep(30);
    from.socket.send('still here', reporting.localPort, '127.0.0.1');
    const later = await drainAll(reporting, 1);
    expect(later.map((l) => l.text)).toEqual(['still here']);
    expect(errors).toEqual([]);
  });

  test('binding: a taken port is UdpBindError naming EADDRINUSE; only IP literals; the owner closes the descriptor', async () => {
    const socket = polled('127.0.0.1');
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    expect(() => bindUdpFd('127.0.0.1', socket.localPort)).toThrow(UdpBindError);
    expect(() => bindUdpFd('127.0.0.1', socket.localPort)).toThrow(/EADDRINUSE/);
    // The socket a failed bind opened is closed again.
    expect(openFds()).toBe(before);
    expect(polledUdpUnavailable('127.0.0.1')).toBeUndefined();
    expect(polledUdpUnavailable('localhost')).toBe('--host localhost is a name, not an IP address');
    // A send the kernel took says so; an empty one is refused, not thrown (bun:ffi has no pointer to nothing).
    expect(socket.send(new Uint8Array([1]), '127.0.0.1', await freeUdpPort())).toBe(true);
    expect(socket.send(new Uint8Array(0), '127.0.0.1', await freeUdpPort())).toBe(false);
    // A port outside 1..65535 is refused: the kernel would take 65536 + p as p.
    for (const bad of [0, 65536 + socket.localPort, -1, 1.5, Number.NaN]) expect(socket.send(new Uint8Array([1]), '127.0.0.1', bad)).toBe(false);
    expect(isIpLiteral('0.0.0.0')).toBe(true);
    expect(isIpLiteral('::')).toBe(true);
    expect(isIpLiteral('localhost')).toBe(false);
    expect(() => bindUdpFd('localhost', 0)).toThrow(AddressParseError);
    // Not owned: close() leaves the descriptor to whoever bound it (the launcher), which frees the port.
    const fd = bindUdpFd('127.0.0.1', 0);
    const port = udpFdPort(fd);
    const borrowed = new PolledUdpSocket(fd, { owned: false });
    expect(borrowed.localPort).toBe(port);
    borrowed.close();
    expect(udpFdPort(fd)).toBe(port);
    expect(() => bindUdpFd('127.0.0.1', port)).toThrow(/EADDRINUSE/);
    closeUdpFd(fd);
    const again = bindUdpFd('127.0.0.1', port);
    closeUdpFd(again);
  });
});

test('polledUdpSupport says why not where it cannot be used', () => {
  const support = polledUdpSupport();
  if (process.platform === 'linux') expect(support).toEqual({ ok: true });
  else expect(support.ok).toBe(false);
});
