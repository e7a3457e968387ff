/**
 * The locator file (`<dataDir>/matchmaker.json`, `--launcher process`): where this matchmaker's game processes
 * reach it now (`{"reportBase": "http://127.0.0.1:PORT"}`). A game outlives the matchmaker that launched it, and
 * the next one may listen elsewhere (`--port 0`, the TLS report listener's random port): each reconnection attempt
 * reads this file first (workers/process-channel.ts). Written atomically at every start; never a secret.
 */
import { renameSync, writeFileSync } from 'node:fs';

export function writeLocator(file: string, reportBase: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ reportBase, pid: process.pid })}\n`, { mode: 0o644 });
  renameSync(temporary, file);
}
