/**
 * What the kernel knows about this process (Linux /proc): a UDP port's receive queue and drop counter, and the CPU
 * time of single threads (a game worker is a thread of this process, named "Worker"). The count of this process's
 * UDP sockets is `udpSocketCount` in ../support-api/harness.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux ABI Bun runs on.

interface UdpRow {
  localPort: number;
  inode: string;
  /** Bytes waiting in the receive buffer. */
  rxQueue: number;
  drops: number;
}

function udpRows(): UdpRow[] {
  const rows: UdpRow[] = [];
  for (const file of ['/proc/self/net/udp', '/proc/self/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13) continue;
      rows.push({ localPort: Number.parseInt(cols[1]!.split(':')[1]!, 16), inode: cols[9]!, rxQueue: Number.parseInt(cols[4]!.split(':')[1]!, 16), drops: Number(cols[12]) });
    }
  }
  return rows;
}

/** Datagrams the kernel dropped on arrival (receive buffer full) for sockets bound to `port`. */
export function udpDrops(port: number): number {
  return udpRows()
    .filter((row) => row.localPort === port)
    .reduce((sum, row) => sum + row.drops, 0);
}

/** Bytes waiting to be read by sockets bound to `port` (0 once the reader has caught up). */
export function udpQueuedBytes(port: number): number {
  return udpRows()
    .filter((row) => row.localPort === port)
    .reduce((sum, row) => sum + row.rxQueue, 0);
}

/** Thread ids of this process whose name is `name` (Bun names a Worker's thread "Worker"). */
export function threadsNamed(name: string): Set<number> {
  const out = new Set<number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === name) out.add(Number(tid));
    } catch {
      // the thread ended while we listed
    }
  }
  return out;
}

/** User + system CPU seconds of one thread of this process; undefined once it has ended. */
export function threadCpuSeconds(tid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Process CPU seconds (all threads), from process.cpuUsage(). */
export function processCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
