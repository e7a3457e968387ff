/**
 * Loads the reference implementation's known-answer vectors (../shared/netcode-vectors/vectors.json next to
 * the repository) and gives typed access to them. Nothing from the file is copied into the tests, so a
 * regenerated file is picked up as is.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** HUDDLE_NETCODE_VECTORS overrides; otherwise ../shared/netcode-vectors/vectors.json beside the repo root. */
export function vectorsPath(): string {
  const override = process.env.HUDDLE_NETCODE_VECTORS;
  if (override) return path.resolve(override);
  let dir = import.meta.dir;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dir}: cannot find the repository root`);
    dir = parent;
  }
  return path.resolve(dir, '../shared/netcode-vectors/vectors.json');
}

export function loadVectors(): JsonObject {
  const file = vectorsPath();
  if (!existsSync(file)) {
    throw new Error(`netcode vectors not found at ${file}: the reference vectors must sit in ../shared/netcode-vectors/ beside the repository (or set HUDDLE_NETCODE_VECTORS)`);
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Json;
  return asObject(parsed, 'vectors.json');
}

export function asObject(value: Json | undefined, what: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} is not an object`);
  return value;
}

export function asArray(value: Json | undefined, what: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not an array`);
  return value;
}

/** Field accessors that fail with the field's name, so a changed file explains itself. */
export class Entry {
  constructor(
    readonly root: JsonObject,
    readonly object: JsonObject,
    readonly where: string,
  ) {}

  has(key: string): boolean {
    return key in this.object;
  }

  child(key: string): Entry {
    return new Entry(this.root, asObject(this.object[key], `${this.where}.${key}`), `${this.where}.${key}`);
  }

  list(key: string): Entry[] {
    return asArray(this.object[key], `${this.where}.${key}`).map((item, i) => new Entry(this.root, asObject(item, `${this.where}.${key}[${i}]`), `${this.where}.${key}[${i}]`));
  }

  str(key: string): string {
    const value = this.resolve(this.object[key]);
    if (typeof value !== 'string') throw new Error(`${this.where}.${key} is not a string`);
    return value;
  }

  num(key: string): number {
    const value = this.object[key];
    if (typeof value !== 'number') throw new Error(`${this.where}.${key} is not a number`);
    return value;
  }

  bool(key: string): boolean {
    const value = this.object[key];
    if (typeof value !== 'boolean') throw new Error(`${this.where}.${key} is not a boolean`);
    return value;
  }

  /** A uint64 written "0x..." (or a small JSON number). */
  u64(key: string): bigint {
    const value = this.object[key];
    if (typeof value === 'number') return BigInt(value);
    return BigInt(this.str(key));
  }

  hex(key: string): Uint8Array {
    return fromHex(this.str(key), `${this.where}.${key}`);
  }

  strings(key: string): string[] {
    return asArray(this.object[key], `${this.where}.${key}`).map((item) => {
      if (typeof item !== 'string') throw new Error(`${this.where}.${key} holds a non-string`);
      return item;
    });
  }

  /** Values written "= a.b.c" refer to another place in the file. */
  private resolve(value: Json | undefined): Json | undefined {
    if (typeof value !== 'string' || !value.startsWith('= ')) return value;
    let node: Json | undefined = this.root;
    for (const part of value.slice(2).trim().split('.')) node = asObject(node, value)[part];
    return node;
  }
}

export function fromHex(text: string, what = 'hex'): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(text)) throw new Error(`${what} is not hex`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}
