/**
 * Packet fuzz against a live worker (issue 5), CI size: while four real bots play a real round, 20,000 hostile
 * datagrams hit the game's UDP port — random bytes of every length 0..1500, valid prefixes with mutated bodies,
 * truncated and padded requests, tokens for another game, other protocol ids, random keys and other servers,
 * expired tokens, fresh valid tokens after the start, and the bots' own packets replayed (from other addresses
 * and from the bots' own), reordered, duplicated and mutated (support/packet-fuzzer.ts).
 *
 * Afterwards: the worker was alive and the game in_progress for the whole fuzz; nobody but the bots ever held a
 * slot (player count ≤ 4, exactly four `player_joined`); no bot was dropped (each reached the results, no
 * `player_left` before the round ended); the round finished and its stored results list exactly the four bots;
 * the only thing any fuzz source ever got back was a connection-denied packet for a valid token.
 *
 * The 1,000,000-datagram version with figures is bench/fuzz.ts. HUDDLE_FUZZ_SEED replays a run.
 */
import { expect, test } from 'bun:test';
import { CATEGORIES } from './support/packet-fuzzer.ts';
import { playRoundUnderFuzz } from './support/live-round.ts';

const DATAGRAMS = 20_000;
const seed = Number(process.env.HUDDLE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

test(`${DATAGRAMS} hostile datagrams during a four-bot round: nobody else gets in, nobody is dropped, results stored (seed ${seed})`, async () => {
  // 8,000/s: 2.5 s of fuzz at full speed; the 12-second round leaves room for a slow, shared machine.
  const report = await playRoundUnderFuzz({ datagrams: DATAGRAMS, roundSeconds: 12, rate: 8000, seed });
  const { sent, seconds, replies, byCategory } = report.fuzz;
  console.log(
    `packet fuzz: ${sent} datagrams in ${seconds.toFixed(2)} s, ${report.kernelDropsOnGamePort} dropped by the kernel, ` +
      `worker thread ${report.underFuzz.workerCpu.toFixed(2)} CPU s, ${replies.denied} denied replies; ${JSON.stringify(byCategory)}`,
  );

  // Every datagram was sent, every category had its share, all while the round was on.
  expect(report.fuzz.sent).toBe(DATAGRAMS);
  for (const category of CATEGORIES) expect({ category, sent: report.fuzz.byCategory[category] > 100 }).toEqual({ category, sent: true });
  expect(report.stateWhenFuzzEnded).toBe('in_progress');
  expect(report.statesDuringFuzz).toEqual(['in_progress']);

  // The worker answered the fuzz, and only ever with "denied" (fresh valid tokens after the start).
  expect(report.fuzz.replies.total).toBeGreaterThan(0);
  expect(report.fuzz.replies).toEqual({ denied: report.fuzz.replies.total, other: 0, total: report.fuzz.replies.total });
  expect(report.fuzz.challengesAnswered).toBe(0);

  // Nobody but the bots: never more than four players, four joins in the game's log, no bot left early.
  expect(report.maxPlayersSeen).toBe(4);
  expect(report.joins).toBe(4);
  expect(report.leavesBeforeRoundOver).toBe(0);

  // Every bot played to the end and saw the same four names on the leaderboard.
  const names = [...report.botNames].sort();
  for (const outcome of report.outcomes) {
    expect(outcome).toMatchObject({ ok: true, gameId: report.gameId });
    expect(outcome.results!.map((r) => r.name).sort()).toEqual(names);
  }
  expect(report.finalStatus).toEqual({ state: 'finished', endReason: 'round_over' });
  expect(report.storedResults.status).toBe(200);
  expect(report.storedResults.names.sort()).toEqual(names);
}, 60_000);
