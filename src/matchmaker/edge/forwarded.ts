/**
 * What a reverse proxy says about the request it forwards: the chain of client addresses, the scheme and the host
 * the browser used. Pure header parsing; whether to believe it is origin.ts's decision (only from trusted peers).
 *
 * `X-Forwarded-For` wins over `Forwarded` when both are present: nginx, Caddy, Traefik and HAProxy append to
 * X-Forwarded-For by default but pass a client's own `Forwarded` header through untouched, so believing
 * `Forwarded` there would let any client name its own address.
 */
import { parseIp } from './cidr.ts';

export interface ForwardedClaims {
  /** Addresses from the client side to the proxy side (left to right, as proxies append); entries may be junk. */
  readonly chain: readonly string[];
  /** The scheme the nearest proxy saw, when it said. */
  readonly proto: 'http' | 'https' | undefined;
  /** The Host the browser asked for, when the proxy said. */
  readonly host: string | undefined;
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** Splits `a, b` lists, also across repeated header lines (Headers.get joins them with ", "). */
function listOf(value: string | null): string[] {
  if (value === null) return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** `for=` etc. of one Forwarded element: `for="[2001:db8::1]:4711";proto=https`. */
function forwardedPairs(element: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq).trim().toLowerCase();
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    pairs.set(key, value);
  }
  return pairs;
}

/** An address with its port removed: "1.2.3.4:5", "[::1]:5" and "::1" are all addresses. */
export function stripPort(text: string): string {
  const value = text.trim();
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    return close > 0 ? value.slice(1, close) : value;
  }
  const colon = value.indexOf(':');
  // One colon: IPv4 with a port. More: a bare IPv6 address.
  if (colon >= 0 && colon === value.lastIndexOf(':')) return value.slice(0, colon);
  return value;
}

function proto(value: string | undefined): 'http' | 'https' | undefined {
  const lower = value?.trim().toLowerCase();
  return lower === 'http' || lower === 'https' ? lower : undefined;
}

function host(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed && HOST.test(trimmed) ? trimmed.toLowerCase() : undefined;
}

/** Reads X-Forwarded-For / -Proto / -Host, or Forwarded when there is no X-Forwarded-For. */
export function forwardedClaims(headers: Headers): ForwardedClaims {
  const xff = listOf(headers.get('x-forwarded-for'));
  const elements = listOf(headers.get('forwarded')).map(forwardedPairs);
  const chain = xff.length > 0 ? xff.map(stripPort) : elements.flatMap((e) => (e.has('for') ? [stripPort(e.get('for')!)] : []));
  // The nearest proxy speaks last: take the right-most value of each.
  const xfProto = listOf(headers.get('x-forwarded-proto')).at(-1);
  const xfHost = listOf(headers.get('x-forwarded-host')).at(-1);
  const last = elements.at(-1);
  return {
    chain,
    proto: proto(xfProto ?? last?.get('proto')),
    host: host(xfHost ?? last?.get('host')),
  };
}

/**
 * The client address from a chain that ends at `peer`: walking from the proxy side, the first address that is not
 * itself a trusted proxy. When a trusted hop reports something that is not an address (`unknown`, an obfuscated
 * name), that hop is the best we know. When every hop is trusted, the left-most one is the client.
 */
export function clientFromChain(chain: readonly string[], peer: string, trusted: (address: string) => boolean): string {
  let current = peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!trusted(current)) return current;
    const next = chain[i]!;
    if (parseIp(next) === undefined) return current;
    current = next;
  }
  return current;
}
