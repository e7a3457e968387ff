import { describe, expect, test } from 'bun:test';
import { ByteReader, ByteWriter } from '../../src/protocol/bytes.ts';
import {
  addressEquals,
  addressFromParts,
  AddressParseError,
  addressWireBytes,
  formatAddress,
  parseAddress,
  readAddress,
  writeAddress,
  type Address,
} from '../../src/protocol/netcode/address.ts';
import { toHex, fromHex } from './vectors.ts';

function groupsOf(text: string): readonly number[] {
  const address = parseAddress(text);
  if (address.family !== 'ipv6') throw new Error(`${text} is not IPv6`);
  return address.groups;
}

function wire(address: Address): string {
  const out = new Uint8Array(addressWireBytes(address));
  const writer = new ByteWriter(out);
  writeAddress(writer, address);
  expect(writer.offset).toBe(out.length);
  return toHex(out);
}

describe('parseAddress', () => {
  test('IPv4 with port', () => {
    expect(parseAddress('127.0.0.1:40000')).toEqual({ family: 'ipv4', octets: [127, 0, 0, 1], port: 40000 });
    expect(parseAddress('0.0.0.0:0')).toEqual({ family: 'ipv4', octets: [0, 0, 0, 0], port: 0 });
    expect(parseAddress('255.255.255.255:65535').port).toBe(65535);
  });

  test('IPv6 in brackets, compressed and full', () => {
    expect(parseAddress('[::1]:40001')).toEqual({ family: 'ipv6', groups: [0, 0, 0, 0, 0, 0, 0, 1], port: 40001 });
    expect(parseAddress('[::]:5')).toEqual({ family: 'ipv6', groups: [0, 0, 0, 0, 0, 0, 0, 0], port: 5 });
    expect(parseAddress('[2001:db8:85a3:1234:5678:8a2e:370:7334]:1')).toEqual({
      family: 'ipv6',
      groups: [0x2001, 0xdb8, 0x85a3, 0x1234, 0x5678, 0x8a2e, 0x370, 0x7334],
      port: 1,
    });
    expect(parseAddress('[FE80::ABCD]:2')).toEqual({ family: 'ipv6', groups: [0xfe80, 0, 0, 0, 0, 0, 0, 0xabcd], port: 2 });
    expect(groupsOf('[1::]:3')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(groupsOf('[1:2:3:4:5:6::8]:3')).toEqual([1, 2, 3, 4, 5, 6, 0, 8]);
  });

  test('IPv6 with an embedded IPv4 tail', () => {
    expect(groupsOf('[::ffff:10.20.30.40]:9')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a14, 0x1e28]);
  });

  test.each([
    '',
    '127.0.0.1',
    '127.0.0.1:',
    '127.0.0.1:65536',
    '127.0.0.1:-1',
    '127.0.0.1:8o',
    '127.0.0.1: 80',
    '256.0.0.1:1',
    '01.2.3.4:5',
    '1.2.3:4',
    '1.2.3.4.5:6',
    'localhost:80',
    '::1:40000',
    '[::1]',
    '[::1]40000',
    '[::1:40000',
    '[1:2:3:4:5:6:7:8:9]:1',
    '[1:2:3:4:5:6:7]:1',
    '[1::2::3]:1',
    '[1:2:3:4:5:6:7::8]:1',
    '[::g]:1',
    '[12345::]:1',
    '[fe80::1%eth0]:1',
    '[::1.2.3]:1',
    '[]:1',
  ])('rejects %p with an AddressParseError', (text) => {
    expect(() => parseAddress(text)).toThrow(AddressParseError);
  });

  test('the error names the input', () => {
    expect(() => parseAddress('nope')).toThrow('"nope"');
  });
});

describe('formatAddress', () => {
  test.each([
    ['127.0.0.1:40000', '127.0.0.1:40000'],
    ['[::1]:40001', '[::1]:40001'],
    ['[0:0:0:0:0:0:0:0]:1', '[::]:1'],
    ['[2001:0db8:0000:0000:0000:0000:0000:0001]:2', '[2001:db8::1]:2'],
    ['[2001:db8:0:1:0:0:0:1]:3', '[2001:db8:0:1::1]:3'],
    ['[1:0:0:2:0:0:3:4]:4', '[1::2:0:0:3:4]:4'],
    ['[1:0:2:3:4:5:6:7]:5', '[1:0:2:3:4:5:6:7]:5'],
    ['[::ffff:0a14:1e28]:6', '[::ffff:10.20.30.40]:6'],
  ])('%s -> %s (canonical, round-trips)', (input, expected) => {
    const formatted = formatAddress(parseAddress(input));
    expect(formatted).toBe(expected);
    expect(parseAddress(formatted)).toEqual(parseAddress(input));
  });
});

describe('addressEquals and addressFromParts', () => {
  test('compares family, bytes and port', () => {
    expect(addressEquals(parseAddress('1.2.3.4:5'), parseAddress('1.2.3.4:5'))).toBe(true);
    expect(addressEquals(parseAddress('1.2.3.4:5'), parseAddress('1.2.3.4:6'))).toBe(false);
    expect(addressEquals(parseAddress('1.2.3.4:5'), parseAddress('1.2.3.5:5'))).toBe(false);
    expect(addressEquals(parseAddress('[::1]:5'), parseAddress('[0::0:1]:5'))).toBe(true);
    expect(addressEquals(parseAddress('[::1]:5'), parseAddress('0.0.0.1:5'))).toBe(false);
  });

  test('builds from a socket host and port', () => {
    expect(addressFromParts('10.0.0.2', 7)).toEqual(parseAddress('10.0.0.2:7'));
    expect(addressFromParts('::ffff:127.0.0.1', 8)).toEqual(parseAddress('[::ffff:127.0.0.1]:8'));
    expect(() => addressFromParts('10.0.0.2', 70000)).toThrow(AddressParseError);
    expect(() => addressFromParts('example.com', 1)).toThrow(AddressParseError);
  });
});

describe('wire encoding', () => {
  test('IPv4: type 1, octets in order, port u16 LE', () => {
    expect(wire(parseAddress('127.0.0.1:40000'))).toBe('017f000001409c');
  });

  test('IPv6: type 2, each group u16 LE, port u16 LE', () => {
    expect(wire(parseAddress('[2001:db8::1]:40001'))).toBe('02' + '0120' + 'b80d' + '0000'.repeat(5) + '0100' + '419c');
    expect(wire(parseAddress('[2001:db8:85a3:1234:5678:8a2e:370:7334]:40001'))).toBe('020120b80da385341278562e8a70033473419c');
  });

  test('round-trips through readAddress', () => {
    for (const text of ['127.0.0.1:40000', '[2001:db8:85a3:1234:5678:8a2e:370:7334]:40001', '[::]:0']) {
      const address = parseAddress(text);
      const bytes = fromHex(wire(address));
      const reader = new ByteReader(bytes);
      expect(readAddress(reader)).toEqual(address);
      expect(reader.remaining).toBe(0);
    }
  });

  test.each([0, 3, 255])('rejects address type %i', (type) => {
    const bytes = new Uint8Array(19);
    bytes[0] = type;
    expect(readAddress(new ByteReader(bytes))).toBeNull();
  });

  test('refuses to write a malformed address', () => {
    const writer = new ByteWriter(new Uint8Array(32));
    expect(() => writeAddress(writer, { family: 'ipv4', octets: [1, 2, 3, 4], port: 70000 })).toThrow();
  });
});
