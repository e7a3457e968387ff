/**
 * Small pieces the load benchmark's processes share (bench/load*.ts): reading a child's stdout line by line as it
 * comes (flags are bench/args.ts). Kept apart from hosting-common.ts, which loads the server's modules, so the
 * bots' and the join client's processes start light.
 */

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
