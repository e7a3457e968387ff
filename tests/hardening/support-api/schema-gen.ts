/**
 * Request generation from the OpenAPI document: values that satisfy a JSON schema (the subset TypeBox emits:
 * object, string, integer/number, boolean, array, const/enum, anyOf/oneOf) and values that break it.
 */
export type Random = () => number;
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  format?: string;
  examples?: unknown[];
  additionalProperties?: boolean;
}

export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
export const int = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

/** Strings meant to upset parsers, sanitisers, loggers and SQL: control and bidi characters, lone surrogates. */
export const JUNK_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  '\u0000\u0001\u001f\u007f',
  '\u202eevil\u202c',
  '\u200b\u200d\ufeff',
  '\ud800',
  '\udfff\ud800',
  '😀'.repeat(40),
  'Ａｄａ',
  "'; DROP TABLE games; --",
  '" OR 1=1 --',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00%2e%2e%2f',
  '${process.env}',
  '{{7*7}}',
  'null',
  '__proto__',
  '\r\nX-Injected: 1',
  'A'.repeat(101),
  'B'.repeat(5000),
];

export function validValue(schema: JsonSchema, random: Random): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return pick(random, schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    // TypeBox's numeric-string alternative ({type: string, format: integer}) is for query strings; prefer the real type.
    const real = union.filter((s) => !(s.type === 'string' && s.format === 'integer'));
    return validValue(pick(random, real.length ? real : union), random);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(key) || random() < 0.5) out[key] = validValue(sub, random);
      }
      return out;
    }
    case 'array': {
      const n = int(random, 0, Math.min(schema.maxItems ?? 4, 4));
      return Array.from({ length: n }, () => validValue(schema.items ?? {}, random));
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? 0;
      const max = schema.maximum ?? min + 1000;
      return int(random, min, max);
    }
    case 'boolean':
      return random() < 0.5;
    case 'string': {
      const example = schema.examples?.[0];
      if (typeof example === 'string' && random() < 0.5) return example;
      const min = schema.minLength ?? 1;
      const max = Math.min(schema.maxLength ?? 16, 16);
      const alphabet = 'abcdefghijkmnpqrstuvwxyz0123456789 ';
      return Array.from({ length: int(random, Math.max(min, 1), Math.max(min, max)) }, () => pick(random, [...alphabet])).join('').trim() || 'x';
    }
    default:
      return null;
  }
}

const WRONG_TYPES: readonly unknown[] = [0, -1, 1.5, 2 ** 53 + 1, -1e308, true, false, null, [], [1, 2], {}, { a: 1 }, '', '1'];

function deep(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** A value that breaks the schema in one of many ways (or, for junk strings, that a lax server might mishandle). */
export function invalidBody(schema: JsonSchema, random: Random): unknown {
  const union = schema.anyOf ?? schema.oneOf;
  const target = union ? pick(random, union) : schema;
  const base = validValue(target, random);
  const props = Object.keys(target.properties ?? {});
  const kind = int(random, 0, 9);
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return pick(random, WRONG_TYPES);
  const body = { ...(base as Record<string, unknown>) };
  const key = props.length ? pick(random, props) : 'x';
  switch (kind) {
    case 0:
      delete body[key];
      return body;
    case 1:
      return { ...body, [pick(random, ['extra', '__proto__', 'constructor', 'prototype', '', 'x'.repeat(300)])]: pick(random, WRONG_TYPES) };
    case 2:
      return { ...body, [key]: pick(random, WRONG_TYPES) };
    case 3:
      return { ...body, [key]: pick(random, JUNK_STRINGS) };
    case 4:
      return { ...body, [key]: deep(int(random, 10, 2000)) };
    case 5:
      return pick(random, WRONG_TYPES);
    case 6:
      return { ...body, [key]: 'x'.repeat(int(random, 100, 20_000)) };
    case 7: {
      // Nested arrays of objects (results) with broken members.
      return { ...body, [key]: Array.from({ length: int(random, 0, 300) }, () => ({ name: pick(random, JUNK_STRINGS), score: pick(random, WRONG_TYPES) })) };
    }
    case 8:
      return deep(int(random, 1, 5000));
    default:
      return { ...body, [key]: pick(random, [1e21, -0, Number.MAX_SAFE_INTEGER, 1e-7, 255, 0]) };
  }
}

/** Bodies that are not JSON at all, or JSON a strict parser must refuse. */
export const INVALID_JSON_TEXTS: readonly string[] = [
  '{',
  '{"name":',
  '{"name":"a",}',
  "{'name':'a'}",
  'nul',
  'NaN',
  '{"name":"a"} trailing',
  '\ufeff{"name":"a"}',
  '\u0000',
  '[[[[[[[[[[',
  '{"name":"\\ud800"}',
  '{"name":"a","name":"b"}',
  '{"maxPlayers":1e999,"name":"a"}',
  '"just a string"',
  '   ',
  '[' .repeat(100_000),
];

export const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json;;;',
  'application/octet-stream',
  '*/*',
  'application/problem+json',
];
