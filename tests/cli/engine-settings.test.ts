/**
 * huddle's engine settings (src/engine-settings.ts): JSC and mimalloc read theirs only at a process's start, so `huddle serve`
 * started without them replaces itself with the same command plus them — same pid, same argv — and an operator's
 * own value wins. Checked on a real `huddle serve` child through /proc.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { ENGINE_SETTINGS, engineEnvironment, lacksEngineSettings } from '../../src/engine-settings.ts';
import { freePortRange, readyUrl } from '../matchmaker/support/env.ts';

const ENTRY = new URL('../../src/index.ts', import.meta.url).pathname;
const children: Subprocess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function procEnv(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

async function serve(extraEnv: Record<string, string>, dataDirFlag = true): Promise<{ child: Subprocess; argv: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-jsc-'));
  dirs.push(dir);
  const ports = await freePortRange(4);
  const argv = [process.execPath, ENTRY, 'serve', '--host', '127.0.0.1', '--port', '0', ...(dataDirFlag ? ['--data-dir', dir] : []), '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '4'];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...extraEnv };
  const child = Bun.spawn(argv, { env, stdout: 'pipe', stderr: 'pipe' });
  children.push(child);
  await readyUrl(child.stdout as ReadableStream<Uint8Array>);
  return { child, argv };
}

describe('engine settings', () => {
  test('this Bun has the mimalloc option the settings name, and takes it from the environment', () => {
    // mimalloc ignores a name it does not know: a Bun whose allocator dropped or renamed the option fails here.
    const env = { PATH: process.env.PATH ?? '', MIMALLOC_VERBOSE: '1', ...engineEnvironment({}) };
    const run = Bun.spawnSync([process.execPath, '-e', '0'], { env, stdout: 'pipe', stderr: 'pipe', timeout: 10_000 });
    const printed = `${run.stdout.toString()}${run.stderr.toString()}`;
    expect(printed).toMatch(/option 'purge_holes': 0\b/);
    const without = Bun.spawnSync([process.execPath, '-e', '0'], { env: { ...env, MIMALLOC_PURGE_HOLES: '1' }, stdout: 'pipe', stderr: 'pipe', timeout: 10_000 });
    expect(`${without.stdout.toString()}${without.stderr.toString()}`).toMatch(/option 'purge_holes': 1\b/);
  });

  test('each setting unless the environment has its own', () => {
    expect(engineEnvironment({})).toEqual({ ...ENGINE_SETTINGS });
    expect(engineEnvironment({ BUN_JSC_useFTLJIT: '1', OTHER: 'x' })).toEqual({ ...ENGINE_SETTINGS, BUN_JSC_useFTLJIT: '1' });
    expect(lacksEngineSettings({})).toBe(true);
    expect(lacksEngineSettings({ ...ENGINE_SETTINGS })).toBe(false);
  });

  test('huddle serve started without them runs with them: the same process (pid, argv) re-executed', async () => {
    if (process.platform !== 'linux') return;
    const { child, argv } = await serve({});
    const env = procEnv(child.pid);
    for (const [name, value] of Object.entries(ENGINE_SETTINGS)) expect(env[name]).toBe(value);
    expect(env.PATH).toBe(process.env.PATH ?? '');
    expect(readFileSync(`/proc/${child.pid}/cmdline`, 'latin1').split('\0').filter(Boolean)).toEqual(argv);
  }, 20_000);

  test('the rest of the environment comes back byte for byte, UTF-8 included (a data directory in any language)', async () => {
    if (process.platform !== 'linux') return;
    const dir = mkdtempSync(join(tmpdir(), 'huddle-jsc-'));
    dirs.push(dir);
    const named = join(dir, 'données 日本');
    const { child } = await serve({ HUDDLE_DATA_DIR: named, HUDDLE_TEST_NOTE: 'josé ✓ 😀' }, false);
    const env = procEnv(child.pid);
    expect(env.HUDDLE_DATA_DIR).toBe(named);
    expect(env.HUDDLE_TEST_NOTE).toBe('josé ✓ 😀');
    expect(env.BUN_JSC_useFTLJIT).toBe('0');
    // The re-executed server read it as it was given: its store is in that directory.
    expect(existsSync(named)).toBe(true);
  }, 20_000);

  test("an operator's own value wins and is left as it is", async () => {
    if (process.platform !== 'linux') return;
    const { child } = await serve({ BUN_JSC_useFTLJIT: '1' });
    expect(procEnv(child.pid).BUN_JSC_useFTLJIT).toBe('1');
  }, 20_000);
});
