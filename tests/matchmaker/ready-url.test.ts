/** The ready-line reader the process tests share: bounded even when a server prints nothing and stays alive. */
import { expect, test } from 'bun:test';
import { readyUrl } from './support/env.ts';

test('a silent child that never exits: readyUrl gives up at its deadline instead of hanging', async () => {
  const child = Bun.spawn(['sleep', '30'], { stdout: 'pipe' });
  try {
    const started = Date.now();
    await expect(readyUrl(child.stdout, 300)).rejects.toThrow('no ready line within 300 ms');
    expect(Date.now() - started).toBeLessThan(3000);
  } finally {
    child.kill();
    await child.exited;
  }
});

test('a ready line split across reads is found', async () => {
  const child = Bun.spawn(['sh', '-c', 'printf "huddle 0.1.0 listen"; sleep 0.1; printf "ing on http://127.0.0.1:1234\\n"; sleep 5'], { stdout: 'pipe' });
  try {
    expect(await readyUrl(child.stdout, 3000)).toBe('http://127.0.0.1:1234');
  } finally {
    child.kill();
    await child.exited;
  }
});
