/**
 * Datagram counts for the load benchmark (bench/load.ts). The game worker reports no packet counts, so they are
 * taken where every game datagram starts or ends on loopback: at the bots' sockets. `countDatagrams()` wraps
 * `Bun.udpSocket` (and the polled socket's methods) in the bots' process before any bot opens its socket, and
 * counts each datagram its sockets send and receive. Loopback loses a datagram only when the receiver's buffer is full, and the kernel counts
 * those per socket (`drops` in /proc/net/udp, which lists the whole network namespace): `udpDrops` reads them.
 */
import { readFileSync } from 'node:fs';
import { PolledUdpSocket } from '../src/protocol/transport/udp-polled.ts';

export interface DatagramCounts {
  /** Datagrams handed to the kernel by the counted sockets (what the game servers were sent). */
  sent: number;
  /** Sends the kernel refused (send buffer full): lost before leaving. */
  sendFailed: number;
  /** Datagrams the counted sockets read (what the game servers sent that arrived). */
  received: number;
  /** Kernel drops on arrival at the counted sockets that are still open. */
  drops: number;
  /** Counted sockets still open. */
  open: number;
}

type UdpSocketFactory = typeof Bun.udpSocket;
type Sender = (data: Uint8Array, port: number, address: string) => boolean;

/**
 * Sums the `drops` column of /proc/self/net/udp (and udp6) over sockets whose local port passes `wanted`.
 * A socket's counter disappears with the socket, so callers take differences while the sockets are open.
 */
export function udpDrops(wanted: (port: number) => boolean): number {
  let drops = 0;
  for (const file of ['/proc/self/net/udp', '/proc/self/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13) continue;
      if (wanted(Number.parseInt((cols[1] ?? '').split(':')[1] ?? '', 16))) drops += Number(cols[12]);
    }
  }
  return drops;
}

/**
 * Counts the datagrams of every UDP socket this process opens from now on; returns a reader of the totals.
 * Must run before the first socket is opened (sockets opened earlier are not seen). Wrapping the factory rather
 * than changing src/ keeps the bots exactly as `huddle bot` runs them.
 */
export function countDatagrams(): () => DatagramCounts {
  const open: UdpSocketFactory = Bun.udpSocket.bind(Bun);
  const ports = new Set<number>();
  let sent = 0;
  let sendFailed = 0;
  let received = 0;
  const counting = (async (options: Parameters<UdpSocketFactory>[0]) => {
    const data = options.socket?.data;
    const socket = await open({
      ...options,
      socket: {
        ...options.socket,
        data(...args: Parameters<NonNullable<typeof data>>) {
          received++;
          return data?.apply(this, args);
        },
      },
    } as Parameters<UdpSocketFactory>[0]);
    const port = socket.port;
    ports.add(port);
    const writable = socket as unknown as { send: Sender; close: () => void };
    const send: Sender = writable.send.bind(socket);
    const close = writable.close.bind(socket);
    writable.send = (bytes, toPort, address) => {
      const ok = send(bytes, toPort, address);
      if (ok) sent++;
      else sendFailed++;
      return ok;
    };
    writable.close = () => {
      ports.delete(port);
      close();
    };
    return socket;
  }) as unknown as UdpSocketFactory;
  (Bun as unknown as { udpSocket: UdpSocketFactory }).udpSocket = counting;
  // Bots that read at their clock's ticks (src/bot.ts, udpReads 'wakes') use the polled socket: counted the same
  // way, its port known from its first send (a bot sends before it can receive anything).
  const polled = PolledUdpSocket.prototype;
  const drain = polled.drain;
  const polledSend = polled.send;
  const polledClose = polled.close;
  polled.drain = function (this: PolledUdpSocket, handler, max) {
    const read = drain.call(this, handler, max);
    received += read;
    return read;
  };
  polled.send = function (this: PolledUdpSocket, bytes, host, toPort) {
    ports.add(this.localPort);
    const ok = polledSend.call(this, bytes, host, toPort);
    if (ok) sent++;
    else sendFailed++;
    return ok;
  };
  polled.close = function (this: PolledUdpSocket) {
    ports.delete(this.localPort);
    polledClose.call(this);
  };
  return () => ({ sent, sendFailed, received, drops: ports.size ? udpDrops((p) => ports.has(p)) : 0, open: ports.size });
}
