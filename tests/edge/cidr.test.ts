/** CIDR lists and the forwarded-header rules, as pure functions. */
import { describe, expect, test } from 'bun:test';
import { CidrList, formatIp, normalizeIp, parseCidrList, parseIp } from '../../src/matchmaker/edge/cidr.ts';
import { clientFromChain, forwardedClaims } from '../../src/matchmaker/edge/forwarded.ts';
import { resolveOrigin } from '../../src/matchmaker/edge/origin.ts';

describe('addresses and CIDRs', () => {
  test('IPv4, IPv6, IPv4-mapped and bracketed forms parse to one canonical text; junk does not', () => {
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('[2001:DB8:0:0:1:0:0:1]')).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('fe80::1%eth0')!)).toBe('fe80::1');
    for (const junk of ['999.1.1.1', '1.2.3', '1:2:3:4:5:6:7:8:9', 'unknown', '_hidden', '']) expect(parseIp(junk)).toBeUndefined();
  });

  test('lists: membership for IPv4 (also as mapped IPv6) and IPv6; errors name the entry', () => {
    const parsed = parseCidrList('10.0.0.0/8, fd00::/8,192.168.1.7');
    expect(parsed.ok).toBe(true);
    const list = new CidrList(parsed.ok ? parsed.cidrs : []);
    expect(list.contains('10.200.3.4')).toBe(true);
    expect(list.contains('::ffff:10.200.3.4')).toBe(true);
    expect(list.contains('11.0.0.1')).toBe(false);
    expect(list.contains('fd12:3456::1')).toBe(true);
    expect(list.contains('fe80::1')).toBe(false);
    expect(list.contains('192.168.1.7')).toBe(true);
    expect(list.contains('192.168.1.8')).toBe(false);
    expect(list.contains('unknown')).toBe(false);
    expect(parseCidrList('10.0.0.1/8')).toEqual({ ok: false, error: '"10.0.0.1/8" has bits set past its /8 prefix (did you mean 10.0.0.0/8?)' });
    expect(parseCidrList('::/129').ok).toBe(false);
    expect(parseCidrList('0.0.0.0/0').ok).toBe(true);
  });
});

describe('forwarded headers', () => {
  const trusted = CidrList.fromTexts(['127.0.0.1', '10.0.0.0/8']);
  const isTrusted = (a: string) => trusted.contains(a);

  test('X-Forwarded-For wins over Forwarded (proxies append to it and pass a client-written Forwarded through)', () => {
    const claims = forwardedClaims(new Headers({ 'x-forwarded-for': '203.0.113.5', forwarded: 'for=198.51.100.1' }));
    expect(claims.chain).toEqual(['203.0.113.5']);
  });

  test('the right-most address that is not a trusted proxy is the client', () => {
    expect(clientFromChain(['6.6.6.6', '203.0.113.5', '10.1.1.1'], '127.0.0.1', isTrusted)).toBe('203.0.113.5');
    // Every hop trusted: the left-most is the client.
    expect(clientFromChain(['10.2.2.2', '10.1.1.1'], '127.0.0.1', isTrusted)).toBe('10.2.2.2');
    // A trusted hop that reports junk: that hop is the best we know.
    expect(clientFromChain(['unknown'], '127.0.0.1', isTrusted)).toBe('127.0.0.1');
    // An untrusted peer: the chain is not read at all.
    expect(clientFromChain(['203.0.113.5'], '198.51.100.9', isTrusted)).toBe('198.51.100.9');
  });

  test('Forwarded: quoted IPv6 with port, proto and host of the nearest element', () => {
    const claims = forwardedClaims(new Headers({ forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711";proto=https;host=games.example.org' }));
    expect(claims).toEqual({ chain: ['192.0.2.60', '2001:db8:cafe::17'], proto: 'https', host: 'games.example.org' });
  });

  test('a Host that is not a host name is ignored', () => {
    expect(forwardedClaims(new Headers({ 'x-forwarded-host': 'evil.example/path?x' })).host).toBeUndefined();
    expect(forwardedClaims(new Headers({ 'x-forwarded-proto': 'gopher' })).proto).toBeUndefined();
  });

  test('resolveOrigin believes the headers only from a trusted peer', () => {
    const request = new Request('http://10.9.9.9:8080/api/games', { headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'games.example.org' } });
    const untrusted = resolveOrigin(request, '198.51.100.9', { trustProxy: trusted, publicUrl: undefined });
    expect(untrusted).toMatchObject({ peer: '198.51.100.9', address: '198.51.100.9', scheme: 'http' });
    expect(untrusted.base.href).toBe('http://10.9.9.9:8080/');
    const viaProxy = resolveOrigin(request, '::ffff:127.0.0.1', { trustProxy: trusted, publicUrl: undefined });
    expect(viaProxy).toMatchObject({ peer: '127.0.0.1', address: '203.0.113.5', scheme: 'https' });
    expect(viaProxy.base.href).toBe('https://games.example.org/');
    const pinned = resolveOrigin(request, '127.0.0.1', { trustProxy: trusted, publicUrl: new URL('https://play.example.net') });
    expect(pinned.base.href).toBe('https://play.example.net/');
  });
});
