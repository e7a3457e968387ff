/**
 * Drives the netcode C reference programs in ../shared/netcode-ref/bin (see its README) from tests: spawns them
 * with a hard time bound, collects their output line by line, parses their RESULT line, and kills whatever is
 * still running when a test ends.
 *
 * The programs are read from the shared directory beside the repository, never copied into it. When that
 * directory is absent (a checkout without it) the suites skip and say so; when it is present, any failure to run
 * a program fails the test.
 */
import { describe, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REF_BIN_DIR = fileURLToPath(new URL('../../../shared/netcode-ref/bin/', import.meta.url));
export const refAvailable = existsSync(REF_BIN_DIR);
export const refBinary = (name: 'refclient' | 'refserver' | 'bench_ref') => join(REF_BIN_DIR, name);

/** The fixed key and protocol id the reference server and its `mint` use (README). */
export const REF_PROTOCOL_ID = 0x1122_3344_5566_7788n;
export const REF_PRIVATE_KEY = Uint8Array.from(Buffer.from('606abe6ec91910ea9a6562f66f2b30e44371d62cd19927266b3c60f4b715aba1', 'hex'));

/**
 * `describe`, or a loud skip when the reference programs are not beside the repository. With
 * HUDDLE_REQUIRE_NETCODE_REF=1 (CI, where they must be there) their absence is a failure instead.
 */
export function describeInterop(name: string, body: () => void): void {
  if (refAvailable) return describe(name, body);
  const why = `the netcode reference programs are absent (no ${REF_BIN_DIR}); see ../shared/netcode-ref/README.md`;
  if (process.env.HUDDLE_REQUIRE_NETCODE_REF === '1') {
    describe(name, () => test('the netcode reference programs are present (HUDDLE_REQUIRE_NETCODE_REF=1)', () => {
      throw new Error(why);
    }));
    return;
  }
  console.warn(`SKIPPED "${name}": ${why}`);
  describe.skip(name, body);
}

/** key=value pairs of a RESULT line (`RESULT label=a connected=yes …`); bare words are ignored. */
export type RefResult = Record<string, string>;

export function parseResult(line: string): RefResult {
  const out: RefResult = {};
  for (const word of line.trim().split(/\s+/).slice(1)) {
    const eq = word.indexOf('=');
    if (eq > 0) out[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return out;
}

export interface RefExit {
  code: number | null;
  /** Killed at its time bound rather than exiting on its own. */
  timedOut: boolean;
  lines: string[];
  /** The last RESULT line, parsed; undefined if the program printed none. */
  result: RefResult | undefined;
}

/** One running reference program. */
export class RefProcess {
  readonly lines: string[] = [];
  readonly exit: Promise<RefExit>;
  private readonly child: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  private timedOut = false;
  private readonly waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  constructor(
    readonly argv: string[],
    timeoutMs: number,
  ) {
    const child = Bun.spawn(argv, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
    this.child = child;
    const timer = setTimeout(() => {
      this.timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const streams = [this.collect(child.stdout), this.collect(child.stderr)];
    this.exit = (async () => {
      const code = await child.exited;
      clearTimeout(timer);
      await Promise.all(streams);
      const resultLine = this.lines.findLast((line) => line.startsWith('RESULT '));
      return { code, timedOut: this.timedOut, lines: this.lines, result: resultLine ? parseResult(resultLine) : undefined };
    })();
  }

  /** Resolves with the first line (already printed or to come) matching `pattern`; rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms from ${this.argv.join(' ')}; output:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      const waiter = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The exit, with the RESULT line required: a program that printed none fails the test with its output. */
  async result(): Promise<RefResult & { exitCode: string }> {
    const exit = await this.exit;
    if (!exit.result) throw new Error(`${this.argv.join(' ')} printed no RESULT line (exit ${exit.code}, timed out: ${exit.timedOut}); output:\n${exit.lines.join('\n')}`);
    return { ...exit.result, exitCode: String(exit.code) };
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    }
    if (buffer) this.push(buffer);
  }

  private push(line: string): void {
    this.lines.push(line);
    for (const waiter of this.waiters.filter((w) => w.pattern.test(line))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  }
}

/** Every program a test started and every temp directory it made, cleaned in afterEach. */
export class RefHarness {
  private readonly processes: RefProcess[] = [];
  private readonly dirs: string[] = [];

  /** Starts `bin/<program> …args`, killed after `timeoutMs` at the latest. */
  spawn(program: 'refclient' | 'refserver', args: string[], timeoutMs: number): RefProcess {
    const child = new RefProcess([refBinary(program), ...args], timeoutMs);
    this.processes.push(child);
    return child;
  }

  /**
   * The reference client on a token file, bounded by its own options plus a margin. Options are the README's:
   * `--secs` to reach CONNECTED, then `--hold`, after `--delay`.
   */
  refclient(tokenFile: string, options: { label: string; secs?: number; hold?: number; delay?: number; send?: number; bytes?: number; disconnect?: boolean }): RefProcess {
    const secs = options.secs ?? 5;
    const hold = options.hold ?? 0;
    const delay = options.delay ?? 0;
    const args = [tokenFile, '--label', options.label, '--secs', String(secs), '--hold', String(hold), '--log', '1'];
    if (delay > 0) args.push('--delay', String(delay));
    if (options.send !== undefined) args.push('--send', String(options.send), '--bytes', String(options.bytes ?? 100));
    if (options.disconnect) args.push('--disconnect');
    return this.spawn('refclient', args, (secs + hold + delay + 5) * 1000);
  }

  /** Writes a 2048-byte binary token file (from the API's base64, or raw bytes) in a fresh temp directory. */
  tokenFile(token: string | Uint8Array): string {
    const bytes = typeof token === 'string' ? Buffer.from(token, 'base64') : token;
    if (bytes.length !== 2048) throw new Error(`a connect token is 2048 bytes, this one ${bytes.length}`);
    const file = join(this.tempDir(), 'token.bin');
    writeFileSync(file, bytes);
    return file;
  }

  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'huddle-interop-'));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const child of this.processes.splice(0)) {
      child.kill();
      await child.exit;
    }
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
