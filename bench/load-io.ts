/**
 * Small pieces the load benchmark's processes share (bench/load*.ts, bench/hosting-bots.ts): command-line flags
 * and reading a child's stdout line by line as it comes. Kept apart from hosting-common.ts, which loads the
 * server's modules, so the bots' and the join client's processes start light.
 */

/** The value after `--name`, else `fallback`; throws when neither is there. */
export function flag(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

/** A flag that must be a whole number ≥ 1. */
export function wholeFlag(name: string, fallback?: number): number {
  const value = Number(flag(name, fallback === undefined ? undefined : String(fallback)));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

/** Calls `onLine` for each line of `stream` as it arrives (without the newline); resolves at its end. */
export async function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let buffered = '';
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    buffered += decoder.decode(chunk.value, { stream: true });
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  if (buffered) onLine(buffered);
}
