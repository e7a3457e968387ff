/**
 * IP addresses as 128-bit numbers and CIDR lists over them: what `--trust-proxy` holds and what the connection
 * guard exempts. IPv4 is kept in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so `10.0.0.0/8` also matches a
 * peer that a dual-stack listener reports as `::ffff:10.1.2.3`.
 */
import { compressIpv6Groups } from '../../protocol/netcode/address.ts';

/** An address as a 128-bit number; IPv4 addresses are IPv4-mapped. */
export type IpNumber = bigint;

const V4_MAPPED = 0xffffn << 32n;

function parseIpv4Octets(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return octets;
}

function ipv4Number(octets: readonly number[]): bigint {
  return octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
}

/** Eight 16-bit groups, with `::` and a trailing dotted IPv4 part allowed; undefined when not an IPv6 address. */
function parseIpv6Groups(text: string): number[] | undefined {
  let body = text;
  const zone = body.indexOf('%');
  if (zone >= 0) body = body.slice(0, zone);
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    // A dotted IPv4 tail (::ffff:1.2.3.4) is two groups written differently: rewrite it as hex.
    const octets = parseIpv4Octets(body.slice(lastColon + 1));
    if (!octets) return undefined;
    const hi = ((octets[0]! << 8) | octets[1]!).toString(16);
    const lo = ((octets[2]! << 8) | octets[3]!).toString(16);
    body = `${body.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const head = groupsOf(halves[0]!);
  const rest = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  return [...head, ...new Array<number>(8 - total).fill(0), ...rest];
}

/** Parses an IPv4 or IPv6 literal (IPv6 possibly in brackets); undefined when it is not one. */
export function parseIp(text: string): IpNumber | undefined {
  const trimmed = text.trim().replace(/^\[(.*)\]$/, '$1');
  const v4 = parseIpv4Octets(trimmed);
  if (v4) return V4_MAPPED | ipv4Number(v4);
  if (!trimmed.includes(':')) return undefined;
  const groups = parseIpv6Groups(trimmed);
  if (!groups) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Whether the number is an IPv4(-mapped) address. */
export function isIpv4(ip: IpNumber): boolean {
  return ip >> 32n === 0xffffn;
}

/** The canonical text of an address: dotted IPv4 for IPv4-mapped ones, lower-case compressed IPv6 otherwise. */
export function formatIp(ip: IpNumber): string {
  if (isIpv4(ip)) return [24n, 16n, 8n, 0n].map((shift) => String((ip >> shift) & 0xffn)).join('.');
  return compressIpv6Groups(Array.from({ length: 8 }, (_, i) => Number((ip >> BigInt(112 - 16 * i)) & 0xffffn)));
}

/** Canonical text of an address given as text (so "::ffff:127.0.0.1" and "127.0.0.1" count as one); else the text. */
export function normalizeIp(text: string): string {
  const ip = parseIp(text);
  return ip === undefined ? text : formatIp(ip);
}

export interface Cidr {
  readonly base: IpNumber;
  /** Prefix length over the 128-bit form (an IPv4 /8 is /104 here). */
  readonly bits: number;
  /** As written canonically, e.g. "10.0.0.0/8" or "fd00::/8". */
  readonly text: string;
}

function maskOf(bits: number): bigint {
  return bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits);
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; error: string };

/** "a.b.c.d/n", "v6/n" or a bare address (a /32 or /128). Host bits must be zero, as a typo there usually means a wrong prefix. */
export function parseCidr(text: string): CidrParse {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash >= 0 ? trimmed.slice(0, slash) : trimmed;
  const ip = parseIp(addressText);
  if (ip === undefined) return { ok: false, error: `${JSON.stringify(trimmed)} is not an IPv4 or IPv6 address or CIDR` };
  const v4 = isIpv4(ip) && !addressText.includes(':');
  const max = v4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const bitsText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) return { ok: false, error: `${JSON.stringify(trimmed)}: the prefix length must be from 0 to ${max}` };
    prefix = Number(bitsText);
  }
  const bits = v4 ? 96 + prefix : prefix;
  const mask = maskOf(bits);
  if ((ip & ~mask & ((1n << 128n) - 1n)) !== 0n) {
    return { ok: false, error: `${JSON.stringify(trimmed)} has bits set past its /${prefix} prefix (did you mean ${formatIp(ip & mask)}/${prefix}?)` };
  }
  return { ok: true, cidr: { base: ip & mask, bits, text: `${formatIp(ip & mask)}/${prefix}` } };
}

export type CidrListParse = { ok: true; cidrs: readonly Cidr[] } | { ok: false; error: string };

/** A comma-separated list of CIDRs; empty entries are not allowed (a stray comma is a typo). */
export function parseCidrList(text: string): CidrListParse {
  const cidrs: Cidr[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') return { ok: false, error: 'an empty entry in the list (expected CIDR,CIDR,…)' };
    const parsed = parseCidr(part);
    if (!parsed.ok) return parsed;
    cidrs.push(parsed.cidr);
  }
  return { ok: true, cidrs };
}

/** Membership in a set of CIDRs. */
export class CidrList {
  private readonly entries: readonly { base: bigint; mask: bigint }[];

  constructor(readonly cidrs: readonly Cidr[]) {
    this.entries = cidrs.map((c) => ({ base: c.base, mask: maskOf(c.bits) }));
  }

  static fromTexts(texts: readonly string[]): CidrList {
    const cidrs = texts.map((t) => {
      const parsed = parseCidr(t);
      if (!parsed.ok) throw new RangeError(parsed.error);
      return parsed.cidr;
    });
    return new CidrList(cidrs);
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether the address (text, as a peer is reported) lies in one of the CIDRs; false for anything unparsable. */
  contains(address: string | IpNumber): boolean {
    const ip = typeof address === 'bigint' ? address : parseIp(address);
    if (ip === undefined) return false;
    return this.entries.some((e) => (ip & e.mask) === e.base);
  }
}
