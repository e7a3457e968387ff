/** The clock every bot of a process shares (src/bot-clock.ts): one timer, whatever the number of bots. */
import { afterEach, expect, test } from 'bun:test';
import { BotClock } from '../../src/bot-clock.ts';

const leaves: (() => void)[] = [];
afterEach(() => {
  for (const leave of leaves.splice(0)) leave();
});

test('every bot steps at each tick of one 30 Hz timer, with one time per step; leaving stops a bot', async () => {
  const clock = new BotClock();
  const times: number[][] = [[], [], []];
  for (const list of times) leaves.push(clock.join((now) => list.push(now)));
  expect(clock.size).toBe(3);
  const sleptFrom = performance.now();
  await Bun.sleep(400);
  const slept = performance.now() - sleptFrom;
  const [a, b, c] = times as [number[], number[], number[]];
  // ~12 ticks in 400 ms; a loaded machine may fire fewer, and no more than the time slept holds.
  expect(a.length).toBeGreaterThanOrEqual(5);
  expect(a.length).toBeLessThanOrEqual(Math.ceil(slept / (1000 / 30)) + 1);
  // The same ticks for all: the bots step one after another within each.
  expect(b.length).toBe(a.length);
  expect(c.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) {
    expect(b[i]! - a[i]!).toBeGreaterThanOrEqual(0);
    // Far closer than a tick apart (a pause of the machine or a collection may come between two steps).
    expect(c[i]! - a[i]!).toBeLessThan(0.02);
  }
  // Consecutive ticks ~1/30 s apart on average.
  expect((a.at(-1)! - a[0]!) / (a.length - 1)).toBeGreaterThan(0.025);
  leaves.shift()!();
  const before = [a.length, b.length];
  await Bun.sleep(150);
  expect(a.length).toBe(before[0]!);
  expect(b.length).toBeGreaterThan(before[1]!);
});

test('the last bot to leave stops the timer; a later bot starts it again', async () => {
  const clock = new BotClock(50);
  let steps = 0;
  const leave = clock.join(() => steps++);
  await Bun.sleep(100);
  leave();
  expect(clock.size).toBe(0);
  const stopped = steps;
  expect(stopped).toBeGreaterThan(0);
  await Bun.sleep(100);
  expect(steps).toBe(stopped);
  leaves.push(clock.join(() => steps++));
  await Bun.sleep(100);
  expect(steps).toBeGreaterThan(stopped);
});

test('a bot whose step throws does not stop the others at that tick; the error is reported', async () => {
  const errors: unknown[] = [];
  const clock = new BotClock(50, (error) => errors.push(error));
  let after = 0;
  leaves.push(clock.join(() => {
    throw new Error('broken bot');
  }));
  leaves.push(clock.join(() => after++));
  await Bun.sleep(120);
  expect(after).toBeGreaterThan(0);
  expect(errors.length).toBe(after);
  expect((errors[0] as Error).message).toBe('broken bot');
});

test('one interval for any number of bots, cleared when the last leaves; a rate that is not > 0 is refused', () => {
  const started: unknown[] = [];
  const cleared: unknown[] = [];
  const realSet = globalThis.setInterval;
  const realClear = globalThis.clearInterval;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const timer = realSet(...args);
    started.push(timer);
    return timer;
  }) as typeof setInterval;
  globalThis.clearInterval = ((timer: Parameters<typeof clearInterval>[0]) => {
    cleared.push(timer);
    realClear(timer);
  }) as typeof clearInterval;
  try {
    const clock = new BotClock();
    const bots = [0, 1, 2].map(() => clock.join(() => {}));
    expect(started.length).toBe(1);
    expect(clock.running).toBe(true);
    bots[0]!();
    bots[1]!();
    expect(cleared.length).toBe(0);
    bots[2]!();
    expect(cleared).toEqual(started);
    expect(clock.running).toBe(false);
  } finally {
    globalThis.setInterval = realSet;
    globalThis.clearInterval = realClear;
  }
  for (const hz of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new BotClock(hz)).toThrow(RangeError);
});

test('a bot that leaves during a tick (another step stopped it) does not step in that tick', async () => {
  const clock = new BotClock(50);
  const order: string[] = [];
  let leaveB: () => void = () => {};
  const leaveA = clock.join(() => {
    order.push('A');
    leaveB();
  });
  leaveB = clock.join(() => order.push('B'));
  leaves.push(leaveA);
  await Bun.sleep(60);
  expect(order[0]).toBe('A');
  expect(order).not.toContain('B');
});
