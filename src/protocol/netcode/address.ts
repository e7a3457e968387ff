/**
 * Server addresses as netcode carries them in connect tokens: IPv4 or IPv6 with a port.
 *
 * On the wire an IPv6 address is its eight groups each as a u16 LITTLE-endian, not the 16 network-order
 * bytes, and every port is a u16 little-endian: this is the reference's layout and the easiest one to get wrong.
 */
import type { ByteReader, ByteWriter } from '../bytes.ts';

export const ADDRESS_TYPE_IPV4 = 1;
export const ADDRESS_TYPE_IPV6 = 2;
export const IPV4_WIRE_BYTES = 1 + 4 + 2;
export const IPV6_WIRE_BYTES = 1 + 16 + 2;

export interface Ipv4Address {
  readonly family: 'ipv4';
  /** Four octets in dotted order. */
  readonly octets: readonly number[];
  readonly port: number;
}

export interface Ipv6Address {
  readonly family: 'ipv6';
  /** Eight 16-bit groups in textual order. */
  readonly groups: readonly number[];
  readonly port: number;
}

export type Address = Ipv4Address | Ipv6Address;

export class AddressParseError extends Error {
  override readonly name = 'AddressParseError';
}

/** Parses "a.b.c.d:port" or "[ipv6]:port". The port is required: a server address without one is useless. */
export function parseAddress(text: string): Address {
  const fail = (why: string): never => {
    throw new AddressParseError(`invalid address ${JSON.stringify(text)}: ${why}`);
  };
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) fail('missing "]"');
    if (text[close + 1] !== ':') fail('expected "]:port"');
    const groups = parseIpv6(text.slice(1, close)) ?? fail('bad IPv6 address');
    return { family: 'ipv6', groups, port: parsePortOrFail(text.slice(close + 2), fail) };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) fail('expected "host:port"');
  const host = text.slice(0, colon);
  if (host.includes(':')) fail('IPv6 addresses must be written "[addr]:port"');
  const octets = parseIpv4(host) ?? fail('bad IPv4 address');
  return { family: 'ipv4', octets, port: parsePortOrFail(text.slice(colon + 1), fail) };
}

/** Builds an address from a host without brackets (as sockets report a peer) and a port. */
export function addressFromParts(host: string, port: number): Address {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new AddressParseError(`invalid port ${port}`);
  }
  const octets = parseIpv4(host);
  if (octets) return { family: 'ipv4', octets, port };
  const groups = parseIpv6(host);
  if (groups) return { family: 'ipv6', groups, port };
  throw new AddressParseError(`invalid host ${JSON.stringify(host)}`);
}

/** Whether `host` (no brackets, no port) is an IPv4 or IPv6 literal rather than a name. */
export function isIpLiteral(host: string): boolean {
  return parseIpv4(host) !== null || parseIpv6(host) !== null;
}

/** Canonical text (RFC 5952 for IPv6), so it doubles as a map key for an address. */
export function formatAddress(address: Address): string {
  if (address.family === 'ipv4') return `${address.octets.join('.')}:${address.port}`;
  return `[${formatIpv6(address.groups)}]:${address.port}`;
}

export function addressEquals(a: Address, b: Address): boolean {
  if (a.port !== b.port) return false;
  if (a.family === 'ipv4') return b.family === 'ipv4' && sameNumbers(a.octets, b.octets);
  return b.family === 'ipv6' && sameNumbers(a.groups, b.groups);
}

export function addressWireBytes(address: Address): number {
  return address.family === 'ipv4' ? IPV4_WIRE_BYTES : IPV6_WIRE_BYTES;
}

/** Throws (AddressParseError) on a malformed address rather than let DataView wrap its numbers. */
export function writeAddress(writer: ByteWriter, address: Address): void {
  assertValidAddress(address);
  if (address.family === 'ipv4') {
    writer.u8(ADDRESS_TYPE_IPV4);
    for (const octet of address.octets) writer.u8(octet);
  } else {
    writer.u8(ADDRESS_TYPE_IPV6);
    for (const group of address.groups) writer.u16(group);
  }
  writer.u16(address.port);
}

/** Reads one address; null if the type byte is neither 1 nor 2. */
export function readAddress(reader: ByteReader): Address | null {
  const type = reader.u8();
  if (type === ADDRESS_TYPE_IPV4) {
    const octets = [reader.u8(), reader.u8(), reader.u8(), reader.u8()];
    return { family: 'ipv4', octets, port: reader.u16() };
  }
  if (type === ADDRESS_TYPE_IPV6) {
    const groups: number[] = [];
    for (let i = 0; i < 8; i++) groups.push(reader.u16());
    return { family: 'ipv6', groups, port: reader.u16() };
  }
  return null;
}

/** Throws unless the address is well formed, so a bad address never reaches the wire. */
export function assertValidAddress(address: Address): void {
  const ok =
    isU16(address.port) &&
    (address.family === 'ipv4'
      ? address.octets.length === 4 && address.octets.every(isU8)
      : address.family === 'ipv6' && address.groups.length === 8 && address.groups.every(isU16));
  if (!ok) throw new AddressParseError(`malformed address ${JSON.stringify(address)}`);
}

function parsePortOrFail(text: string, fail: (why: string) => never): number {
  if (!/^\d{1,5}$/.test(text)) fail('bad port');
  const port = Number(text);
  if (port > 0xffff) fail('port above 65535');
  return port;
}

/** Dotted quad without leading zeros (which some parsers read as octal). */
function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    octets.push(value);
  }
  return octets;
}

/** RFC 4291 text: hex groups, at most one "::", optionally a trailing dotted quad. No zone ids. */
function parseIpv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseIpv6Groups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseIpv6Groups(halves[1] ?? '') : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function parseIpv6Groups(text: string): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (i === parts.length - 1 && part.includes('.')) {
      const octets = parseIpv4(part);
      if (!octets) return null;
      groups.push(((octets[0] as number) << 8) | (octets[1] as number), ((octets[2] as number) << 8) | (octets[3] as number));
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

/** An IPv6 address's text without brackets (RFC 5952; IPv4-mapped ones dotted), as sockets report a peer. */
export function formatIpv6(groups: readonly number[]): string {
  // IPv4-mapped addresses (what dual-stack sockets report for IPv4 peers) keep their dotted form.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] as number;
    const lo = groups[7] as number;
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return compressIpv6Groups(groups);
}

/** Eight 16-bit groups as lower-case IPv6 text, the first longest run of two or more zero groups as "::" (RFC 5952). */
export function compressIpv6Groups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isU8(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xff;
}

function isU16(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff;
}
