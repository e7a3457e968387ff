import { describe, expect, test } from 'bun:test';
import { type FlagSpecs, helpText, parseFlags, toNumber, type Usage } from '../bench/args.ts';

const usage = {
  command: 'bun bench/example.ts',
  summary: 'An example bench.',
  flags: {
    runs: { type: 'number', integer: true, min: 1, default: 5, help: 'runs' },
    loss: { type: 'number', min: 0, max: 1, default: 0.05, help: 'loss' },
    k: { type: 'numbers', integer: true, min: 1, default: [2, 8], help: 'ladder' },
    mode: { type: 'string', choices: ['a', 'b'], default: 'a', help: 'mode' },
    url: { type: 'string', help: 'optional' },
    json: { type: 'boolean', help: 'json' },
  },
} as const satisfies Usage<FlagSpecs>;

const ok = (argv: string[]) => {
  const result = parseFlags(usage, argv);
  if (result.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.values;
};
const error = (argv: string[], spec: Usage<FlagSpecs> = usage): string => {
  const result = parseFlags(spec, argv);
  if (result.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.message;
};

describe('parseFlags', () => {
  test('defaults when absent; values typed when given, in either --flag value or --flag=value form', () => {
    expect(ok([])).toEqual({ runs: 5, loss: 0.05, k: [2, 8], mode: 'a', url: undefined, json: false });
    expect(ok(['--runs', '3', '--loss=0.5', '--k', '2,16,100', '--mode', 'b', '--url', 'http://x', '--json'])).toEqual({
      runs: 3, loss: 0.5, k: [2, 16, 100], mode: 'b', url: 'http://x', json: true,
    });
  });

  test('a non-number where a number is wanted is an error naming the flag, never NaN', () => {
    expect(error(['--runs', 'abc'])).toBe("--runs must be a whole number, got 'abc'");
    expect(error(['--runs', '2.5'])).toBe("--runs must be a whole number, got '2.5'");
    expect(error(['--runs', '0'])).toBe('--runs must be a whole number ≥ 1, got 0');
    expect(error(['--loss', '1.5'])).toBe('--loss must be a number ≤ 1, got 1.5');
    expect(error(['--loss', '0x1'])).toContain("got '0x1'");
    expect(error(['--loss='])).toContain("got ''");
    expect(error(['--k', '2,,8'])).toBe("--k must be a whole number, got '' (a comma-separated list)");
  });

  test('unknown flags, missing values, stray arguments and wrong choices are errors', () => {
    expect(error(['--rnus', '3'])).toBe("Unknown option '--rnus'");
    expect(error(['--runs'])).toBe("Option '--runs <value>' argument missing");
    expect(error(['--runs', '--json'])).toBe("Option '--runs' argument is ambiguous.");
    expect(error(['extra'])).toContain("Unexpected argument 'extra'");
    expect(error(['--json=yes'])).toBe("Option '--json' does not take an argument");
    expect(error(['--mode', 'c'])).toBe("--mode must be one of a, b, got 'c'");
  });

  test('required flags must be given', () => {
    const spec = { command: 'bun x.ts', summary: 's', flags: { k: { type: 'number', required: true, help: 'k' } } } as const;
    expect(error([], spec)).toBe('--k is required');
    const result = parseFlags(spec, ['--k', '4']);
    expect(result.kind === 'ok' && result.values.k).toBe(4);
  });

  test('positionals only where a bench declares them', () => {
    const spec = { command: 'bun x.ts', summary: 's', positionals: '[N]', flags: {} } as const;
    const result = parseFlags(spec, ['20', '10']);
    expect(result.kind === 'ok' && result.positionals).toEqual(['20', '10']);
  });

  test('--help wins over everything else and lists every flag with its default', () => {
    const result = parseFlags(usage, ['--runs', '3', '--help']);
    expect(result.kind).toBe('help');
    const text = helpText(usage);
    expect(result.kind === 'help' && result.text).toBe(text);
    expect(text.split('\n')[0]).toBe('usage: bun bench/example.ts [flags]');
    for (const line of ['--runs <n>', '(default 5)', '--k <n,n,…>', '(default 2,8)', '--mode <a|b>', '--json', '--help']) expect(text).toContain(line);
  });

  test('toNumber accepts only plain decimal notation', () => {
    expect(toNumber('N', {}, '1e3')).toBe(1000);
    expect(toNumber('N', {}, '-0.5')).toBe(-0.5);
    for (const raw of ['', ' ', 'Infinity', 'NaN', '1_000', '12px']) expect(toNumber('N', {}, raw)).toEqual({ error: `N must be a number, got '${raw}'` });
  });
});

describe('benches', () => {
  const root = new URL('../', import.meta.url).pathname;
  const run = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const proc = Bun.spawn([process.execPath, ...args], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    return { code, out, err };
  };

  test('bench/load.ts --help prints its usage and exits 0 without starting the sweep', async () => {
    const { code, out, err } = await run(['bench/load.ts', '--help']);
    expect(code).toBe(0);
    expect(out.startsWith('usage: node_modules/.bin/bun bench/load.ts [flags]')).toBe(true);
    expect(out).toContain('--k <n,n,…>');
    expect(out).not.toContain('K =');
    expect(err).toBe('');
  }, 30_000);

  test('a bad flag on a bench is one line on stderr and exit 2', async () => {
    const { code, out, err } = await run(['bench/aead.ts', '--runs', 'five']);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe("bench/aead.ts: --runs must be a whole number, got 'five' (--help for usage)\n");
  }, 30_000);
});
