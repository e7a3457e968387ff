/**
 * Checks made before the server says it is ready, so that a setting that cannot work is a one-line error at
 * start (exit 2) instead of a raw EINVAL or a 503 at the first unlucky create: the listen address is an address
 * of this machine, and every UDP port of --game-ports can be bound on it.
 */
import { lookup } from 'node:dns/promises';
import { parseIp } from './cidr.ts';

/** A setting that cannot work on this machine; the CLI prints the message and exits 2. */
export class StartupCheckError extends Error {
  override readonly name = 'StartupCheckError';
}

async function canBindUdp(hostname: string, port: number): Promise<string | undefined> {
  try {
    const socket = await Bun.udpSocket({ hostname, port });
    socket.close();
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'error';
  }
}

/** `--host` must be an address of this machine (or a wildcard), or a name that resolves to one. */
export async function checkListenHost(host: string): Promise<void> {
  const literal = parseIp(host) !== undefined;
  let address = host.replace(/^\[(.*)\]$/, '$1');
  if (!literal) {
    try {
      address = (await lookup(host)).address;
    } catch {
      throw new StartupCheckError(
        `invalid --host ${JSON.stringify(host)}: not an IP address, and no such host name resolves (use an address of this machine, e.g. 0.0.0.0 or 127.0.0.1)`,
      );
    }
  }
  const failure = await canBindUdp(address, 0);
  if (failure !== undefined) {
    throw new StartupCheckError(`invalid --host ${JSON.stringify(host)}: ${address} is not an address of this machine (${failure})`);
  }
}

/** "40001, 40005-40007": a list of ports written compactly. */
export function portList(ports: readonly number[]): string {
  const sorted = [...ports].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return runs.join(', ');
}

/** Binds every game port once (and lets go): one taken by another program stops the start, naming it. */
export async function checkGamePorts(host: string, range: { first: number; last: number }, held: ReadonlySet<number> = new Set()): Promise<void> {
  const hostname = host.replace(/^\[(.*)\]$/, '$1');
  const taken: number[] = [];
  let code = '';
  // Sequential on purpose: at most one extra fd at a time, and a range is at most a few hundred ports.
  // `held`: ports of games left running by an earlier matchmaker (`--launcher process`), which we adopt.
  for (let port = range.first; port <= range.last; port++) {
    if (held.has(port)) continue;
    const failure = await canBindUdp(hostname, port);
    if (failure !== undefined) {
      taken.push(port);
      code ||= failure;
    }
  }
  if (taken.length === 0) return;
  const which = taken.length === 1 ? `UDP port ${taken[0]} is` : `UDP ports ${portList(taken)} are`;
  throw new StartupCheckError(
    `invalid --game-ports ${range.first}-${range.last}: ${which} already in use on ${hostname} (${code}); free ${taken.length === 1 ? 'it' : 'them'} or choose another range`,
  );
}

/** Turns what Bun throws from listen into the one-line setting error, or undefined when it is something else. */
export function listenFailure(error: unknown, host: string, port: number): StartupCheckError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'EADDRINUSE' || /EADDRINUSE|in use/i.test(text)) {
    return new StartupCheckError(`invalid --port ${port}: TCP port ${port} is already in use on ${host}`);
  }
  if (code === 'EACCES' || /EACCES|permission/i.test(text)) {
    return new StartupCheckError(`invalid --port ${port}: not allowed to listen on it (ports below 1024 need privileges)`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'EINVAL' || /EADDRNOTAVAIL|EINVAL/.test(text)) {
    return new StartupCheckError(`invalid --host ${JSON.stringify(host)}: cannot listen on it (${code ?? 'EINVAL'})`);
  }
  return undefined;
}
