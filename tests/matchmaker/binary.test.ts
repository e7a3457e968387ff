/**
 * The compiled binary: the Swagger UI's script and the game worker must both be embedded (no CDN, no files
 * beside the binary). Built with the same command as `npm run build`, into a temporary directory.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortRange, readyUrl } from './support/env.ts';

const root = join(import.meta.dir, '../..');
const dir = mkdtempSync(join(tmpdir(), 'huddle-binary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bun build --compile', () => {
  test('serves /swagger with its embedded script and starts embedded game workers', async () => {
    const outfile = join(dir, 'huddle');
    const build = Bun.spawnSync([process.execPath, 'build', '--compile', 'src/index.ts', 'src/workers/game-worker.ts', '--outfile', outfile], {
      cwd: root,
      stdout: 'pipe',
      stderr: 'pipe',
    });
    expect(build.exitCode, build.stderr.toString()).toBe(0);

    const runDir = mkdtempSync(join(dir, 'run-'));
    const ports = await freePortRange(2);
    const child = Bun.spawn([outfile, '--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '2', '--log-format', 'json'], {
      cwd: runDir,
      env: {},
      stdout: 'pipe',
      stderr: 'pipe',
    });
    try {
      const url = await readyUrl(child.stdout);

      const page = await (await fetch(`${url}/swagger`)).text();
      expect(page).toContain('src="/swagger/assets/api-reference.js"');
      const script = await fetch(`${url}/swagger/assets/api-reference.js`);
      expect(script.status).toBe(200);
      expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
      expect(((await (await fetch(`${url}/swagger/json`)).json()) as { paths: object }).paths).toHaveProperty('/api/games');

      const created = await fetch(`${url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ada"}' });
      expect(created.status, await created.clone().text()).toBe(201);

      child.kill('SIGTERM');
      expect(await Promise.race([child.exited, Bun.sleep(10000).then(() => 'timeout')])).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60000);
});
