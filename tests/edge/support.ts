/**
 * What the edge suites share: certificates made by openssl at test time, and `huddle serve` as a child process
 * (`bun src/index.ts`) with its ready line (http or https), its output and a clean stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { defaultConfig, type Config } from '../../src/config.ts';
import { type RunningServer, type ServeOptions, startServer } from '../../src/matchmaker/server.ts';
import { FakeLauncher } from '../matchmaker/support/fake-launcher.ts';
import { freePortRange } from '../matchmaker/support/env.ts';

const ROOT = join(import.meta.dir, '..', '..');
export const INDEX = join(ROOT, 'src', 'index.ts');

export function tempDir(prefix = 'huddle-edge-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * `startServer` in this process on 127.0.0.1 (any port) with fake game workers, a data dir of its own and
 * `overrides`; its stop and the dir's removal go on `cleanups` (the dir's first, so a start that throws leaves none).
 */
export async function serveInProcess(overrides: Partial<Config>, cleanups: (() => Promise<void> | void)[], extend?: ServeOptions['extend']): Promise<RunningServer> {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const config: Config = { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: join(dir.path, 'data'), gamePorts: await freePortRange(2), maxGames: 2, ...overrides };
  const server = await startServer({ config, launcher: new FakeLauncher(), ...(extend ? { extend } : {}) });
  cleanups.push(() => server.stop());
  return server;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made now; `cn` tells two certificates apart. */
export async function makeCertificate(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const child = Bun.spawn(
    ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdout: 'ignore', stderr: 'pipe' },
  );
  if ((await child.exited) !== 0) throw new Error(`openssl failed: ${await new Response(child.stderr).text()}`);
  return { cert, key };
}

/** The SPKI SHA-256 (base64) of a certificate, as chromium's --ignore-certificate-errors-spki-list wants it. */
export async function spkiHash(certFile: string): Promise<string> {
  const child = Bun.spawn(['sh', '-c', `openssl x509 -in "$0" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`, certFile], { stdout: 'pipe' });
  const text = (await new Response(child.stdout).text()).trim();
  await child.exited;
  return text;
}

/** The common name of the certificate a TLS server presents right now (a fresh connection each time). */
export function servedCommonName(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      resolve(String(cn));
    });
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error('TLS handshake timed out'));
    });
    socket.on('error', reject);
  });
}

/** fetch that accepts the test's self-signed certificates. */
export function insecureFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, tls: { rejectUnauthorized: false } } as RequestInit);
}

export interface Child {
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

function collect(stream: ReadableStream<Uint8Array>, into: { text: string }): void {
  void (async () => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      into.text += decoder.decode(value, { stream: true });
    }
  })().catch(() => {});
}

/** Runs `bun src/index.ts ARGS` in `cwd` with only `env`. */
export function spawnHuddle(args: string[], options: { cwd: string; env?: Record<string, string>; shellPrefix?: string }): Child {
  const command = [process.execPath, INDEX, ...args];
  // A shell prefix (e.g. "ulimit -n 1024;") runs before exec'ing huddle, for limits the test must set.
  const argv = options.shellPrefix ? ['sh', '-c', `${options.shellPrefix} exec "$@"`, 'sh', ...command] : command;
  const proc = Bun.spawn(argv, { cwd: options.cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const out = { text: '' };
  const err = { text: '' };
  collect(proc.stdout, out);
  collect(proc.stderr, err);
  return {
    proc,
    stdout: () => out.text,
    stderr: () => err.text,
    async stop() {
      proc.kill('SIGKILL');
      await Promise.race([proc.exited, Bun.sleep(5000)]);
    },
  };
}

/** Waits for the ready line and returns its URL (http:// or https://); throws with the output if the child ends first. */
export async function waitReady(child: Child, timeoutMs = 15_000): Promise<string> {
  const ready = /listening on (https?:\/\/\S+)\n/;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = ready.exec(child.stdout());
    if (match) return match[1]!;
    if (child.proc.exitCode !== null) throw new Error(`huddle exited ${child.proc.exitCode} before its ready line: ${child.stdout()} ${child.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no ready line within ${timeoutMs} ms: ${child.stdout()} ${child.stderr()}`);
    await Bun.sleep(20);
  }
}

/** Runs huddle to its end (for settings that must refuse to start) and returns its exit code and output. */
export async function runToExit(args: string[], cwd: string, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnHuddle(args, { cwd });
  const code = await Promise.race([child.proc.exited, Bun.sleep(timeoutMs).then(() => null)]);
  if (code === null) await child.stop();
  await Bun.sleep(20);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** Polls until `predicate` holds; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}
