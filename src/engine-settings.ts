/**
 * The engine settings huddle runs with (JavaScriptCore's and its allocator's), and how a process gets them.
 *
 * - **No FTL**, JSC's top optimising tier. Every game worker is a VM of its own and compiles its own hot code, and
 *   FTL's compiles went on for the whole of a round: 11–14 ms of JIT-thread CPU per second per game. Without it
 *   (DFG stays, and wasm's tiers, where the AEAD runs, are not touched) the JIT threads fall to ~2–3 ms/s per game
 *   and the game's own thread runs a little slower: a game of 8 bots cost 2–35 % less server CPU in the runs of
 *   BENCHMARKS.md ("Load", "The levers", 5).
 * - **No hole purging in mimalloc** (Bun's allocator, v3): its scavenger thread otherwise hands the free parts of
 *   partly used pages back to the kernel every 100 ms, ~2.5 ms of CPU per second per playing game, for memory
 *   the games take again at once. Off, a game of 8 bots cost 4–13 % less server CPU for ~1 MB more RSS
 *   (BENCHMARKS.md "Load", "The levers", 13); whole free pages are still returned after mimalloc's purge delay.
 *
 * JSC and mimalloc read these from environment variables once, when the process starts, and Bun has no call to
 * change them afterwards. So the CLI, started without them, replaces itself with the very same command and the
 * settings added (`execve`: same pid, same argv, same open files; nothing has started yet), and the process
 * launcher puts them in each game's environment. A value the operator set wins (the re-exec adds only the
 * missing ones, and none happens when both are set): `BUN_JSC_useFTLJIT=1` brings FTL back,
 * `MIMALLOC_PURGE_HOLES=1` the purging.
 */
import { readFileSync } from 'node:fs';

export const ENGINE_SETTINGS: Readonly<Record<string, string>> = { BUN_JSC_useFTLJIT: '0', MIMALLOC_PURGE_HOLES: '0' };

/** The settings, each unless `env` already has a value for it (the operator's wins). */
export function engineEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(ENGINE_SETTINGS)) out[name] = env[name] ?? value;
  return out;
}

/** Whether `env` lacks any of the settings (then a process started with it runs without them). */
export function lacksEngineSettings(env: Readonly<Record<string, string | undefined>>): boolean {
  return Object.keys(ENGINE_SETTINGS).some((name) => env[name] === undefined);
}

/**
 * Replaces this process with itself plus the settings, when they are missing; returns only when it did not
 * (they were there, not Linux, or execve failed: the process then runs on without them, which costs CPU, not
 * correctness). Call it first thing, before any server, thread or timer exists.
 */
export async function reexecWithEngineSettings(env: Readonly<Record<string, string | undefined>> = process.env): Promise<void> {
  if (process.platform !== 'linux' || !lacksEngineSettings(env)) return;
  // argv and the environment exactly as this process got them, byte for byte (latin1 maps each byte to one
  // character and back): a value in UTF-8 (a data directory named in any language) must come back unchanged.
  let argv: string[];
  let envp: string[];
  try {
    argv = readFileSync('/proc/self/cmdline', 'latin1').split('\0').filter((arg, i, all) => i < all.length - 1 || arg !== '');
    envp = readFileSync('/proc/self/environ', 'latin1').split('\0').filter((entry) => entry !== '');
  } catch {
    return;
  }
  if (argv.length === 0) return;
  const { dlopen, FFIType, ptr } = await import('bun:ffi');
  let libc;
  try {
    libc = dlopen('libc.so.6', { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
  } catch {
    return;
  }
  for (const [name, value] of Object.entries(ENGINE_SETTINGS)) if (env[name] === undefined) envp.push(`${name}=${value}`);
  // NUL-terminated strings and NULL-terminated pointer arrays, alive (referenced here) until execve reads them.
  const strings = [...argv, ...envp].map((text) => Buffer.from(`${text}\0`, 'latin1'));
  const pointers = (from: number, count: number): BigUint64Array => {
    const array = new BigUint64Array(count + 1);
    for (let i = 0; i < count; i++) array[i] = BigInt(ptr(strings[from + i]!));
    return array;
  };
  const argvArray = pointers(0, argv.length);
  const envpArray = pointers(argv.length, envp.length);
  const path = Buffer.from('/proc/self/exe\0', 'latin1');
  libc.symbols.execve(ptr(path), ptr(argvArray), ptr(envpArray));
  // Only reached if execve failed.
  libc.close();
}
