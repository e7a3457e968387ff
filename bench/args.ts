/**
 * Command-line flags for every bench/*.ts, over node:util parseArgs in strict mode: an unknown flag, a missing
 * value or a value that is not the number asked for stops the bench with one line on stderr and exit code 2
 * (instead of a run measured with NaN), and `--help` prints the usage and exits 0 before anything runs.
 *
 * `parseFlags` is the pure part (argv in, a result out) so a test can pin it; `benchArgs` is what a bench calls
 * at the top of its module.
 */
import { parseArgs } from 'node:util';

interface FlagBase {
  /** One line for --help. */
  readonly help: string;
  /** Shown in --help as `--name <value>`; defaults to the type's name. */
  readonly value?: string;
}
export interface BooleanFlag extends FlagBase {
  readonly type: 'boolean';
}
export interface StringFlag extends FlagBase {
  readonly type: 'string';
  readonly default?: string;
  readonly required?: true;
  readonly choices?: readonly string[];
}
export interface NumberFlag extends FlagBase {
  readonly type: 'number';
  readonly default?: number;
  readonly required?: true;
  readonly integer?: true;
  readonly min?: number;
  readonly max?: number;
}
/** A comma-separated list of numbers, e.g. `--k 2,8,16`; each element is checked like a NumberFlag. */
export interface NumbersFlag extends FlagBase {
  readonly type: 'numbers';
  readonly default?: readonly number[];
  readonly required?: true;
  readonly integer?: true;
  readonly min?: number;
  readonly max?: number;
}
export type FlagSpec = BooleanFlag | StringFlag | NumberFlag | NumbersFlag;
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type BaseValue<S extends FlagSpec> = S extends BooleanFlag ? boolean : S extends StringFlag ? string : S extends NumberFlag ? number : readonly number[];
/** A flag with a default or marked required always has a value; booleans are false when absent. */
export type FlagValue<S extends FlagSpec> = S extends BooleanFlag
  ? boolean
  : S extends { readonly default: unknown } | { readonly required: true }
    ? BaseValue<S>
    : BaseValue<S> | undefined;
export type FlagValues<T extends FlagSpecs> = { -readonly [K in keyof T]: FlagValue<T[K]> };

export interface Usage<T extends FlagSpecs> {
  /** How to invoke it, e.g. `node_modules/.bin/bun bench/aead.ts`. */
  readonly command: string;
  /** What the bench measures, one or two lines. */
  readonly summary: string;
  readonly flags: T;
  /** Set when the bench takes positional arguments: their synopsis, e.g. `[flood] [seconds]`. */
  readonly positionals?: string;
}

export type ParseResult<T extends FlagSpecs> =
  | { readonly kind: 'ok'; readonly values: FlagValues<T>; readonly positionals: readonly string[] }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string };

/** Parses `argv` (without the runtime and script) against `usage.flags`. Never throws, never exits. */
export function parseFlags<T extends FlagSpecs>(usage: Usage<T>, argv: readonly string[]): ParseResult<T> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(usage.flags)) options[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: usage.positionals !== undefined });
  } catch (error) {
    // parseArgs explains ambiguity over several lines, and where positionals are allowed adds how to pass one
    // starting with '-'; the first clause says what is wrong.
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'bad arguments';
    return { kind: 'error', message: first.replace(/\. To specify a positional argument .*$/, '') };
  }
  if (parsed.values.help === true) return { kind: 'help', text: helpText(usage) };

  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(usage.flags)) {
    const raw = parsed.values[name];
    if (spec.type === 'boolean') {
      values[name] = raw === true;
      continue;
    }
    if (raw === undefined || typeof raw !== 'string') {
      if (spec.required) return { kind: 'error', message: `--${name} is required` };
      values[name] = spec.default;
      continue;
    }
    const value = convert(name, spec, raw);
    if (typeof value === 'object' && value !== null && 'error' in value) return { kind: 'error', message: value.error };
    values[name] = value;
  }
  return { kind: 'ok', values: values as FlagValues<T>, positionals: parsed.positionals };
}

type Converted = string | number | readonly number[] | { readonly error: string };

function convert(name: string, spec: StringFlag | NumberFlag | NumbersFlag, raw: string): Converted {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) return { error: `--${name} must be one of ${spec.choices.join(', ')}, got '${raw}'` };
    return raw;
  }
  if (spec.type === 'number') return toNumber(`--${name}`, spec, raw);
  const list: number[] = [];
  for (const part of raw.split(',')) {
    const n = toNumber(`--${name}`, spec, part);
    if (typeof n !== 'number') return { error: `${n.error} (a comma-separated list)` };
    list.push(n);
  }
  return list;
}

// Number('') is 0 and Number('0x1f') is 31: accept only plain decimal notation, so a typo cannot become a figure.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** `raw` as the number `spec` asks for, or why it is not one. Exported for positional arguments. */
export function toNumber(label: string, spec: Pick<NumberFlag, 'integer' | 'min' | 'max'>, raw: string): number | { readonly error: string } {
  const kind = spec.integer ? 'a whole number' : 'a number';
  const n = DECIMAL.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || (spec.integer && !Number.isInteger(n))) return { error: `${label} must be ${kind}, got '${raw}'` };
  if (spec.min !== undefined && n < spec.min) return { error: `${label} must be ${kind} ≥ ${spec.min}, got ${raw}` };
  if (spec.max !== undefined && n > spec.max) return { error: `${label} must be ${kind} ≤ ${spec.max}, got ${raw}` };
  return n;
}

export function helpText<T extends FlagSpecs>(usage: Usage<T>): string {
  const rows = Object.entries(usage.flags).map(([name, spec]) => {
    const left = spec.type === 'boolean' ? `--${name}` : `--${name} <${spec.value ?? placeholder(spec)}>`;
    return [left, spec.help + describeDefault(spec)] as const;
  });
  rows.push(['--help', 'print this and exit']);
  const width = Math.max(...rows.map(([left]) => left.length));
  const synopsis = `usage: ${usage.command} [flags]${usage.positionals ? ` ${usage.positionals}` : ''}`;
  return [synopsis, '', usage.summary, '', ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)].join('\n');
}

function placeholder(spec: StringFlag | NumberFlag | NumbersFlag): string {
  if (spec.type === 'string') return spec.choices ? spec.choices.join('|') : 'text';
  const one = spec.integer ? 'n' : 'x';
  return spec.type === 'number' ? one : `${one},${one},…`;
}

function describeDefault(spec: FlagSpec): string {
  if (spec.type === 'boolean') return '';
  if (spec.required) return ' (required)';
  if (spec.default === undefined || spec.default === '') return '';
  return ` (default ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)})`;
}

/** Exit code for bad usage, as getopt-style tools use. */
export const USAGE_EXIT = 2;

/**
 * Parses this process's flags (or `argv`) for a bench: prints the usage and exits 0 on --help, prints one line to
 * stderr and exits 2 on bad usage, else returns the values.
 */
export function benchArgs<T extends FlagSpecs>(
  usage: Usage<T>,
  argv: readonly string[] = process.argv.slice(2),
): { values: FlagValues<T>; positionals: readonly string[] } {
  const result = parseFlags(usage, argv);
  if (result.kind === 'help') {
    console.log(result.text);
    process.exit(0);
  }
  if (result.kind === 'error') usageError(usage.command, result.message);
  return { values: result.values, positionals: result.positionals };
}

/** One line on stderr and exit 2: for checks a bench makes on its flags beyond their types. */
export function usageError(command: string, message: string): never {
  const script = command.split(' ').find((part) => part.endsWith('.ts')) ?? command;
  console.error(`${script}: ${message} (--help for usage)`);
  process.exit(USAGE_EXIT);
}
