/**
 * A passcode guesser that tries as fast as it can, counting what the server checked (404 wrong_passcode: the
 * guess was looked up) against what it refused (429). Shared by the guessing suite and bench/guessing.ts.
 */
import { PASSCODE_ALPHABET, PASSCODE_LENGTH } from '../../../src/matchmaker/passcodes.ts';

export interface GuessTally {
  attempts: number;
  /** Guesses the server looked up (answered 404 wrong_passcode). */
  checked: number;
  /** Answered 429 rate_limited. */
  limited: number;
  /** Anything else (a right guess, an error): listed so a test can fail on it. */
  other: Map<number, number>;
  /** Retry-After values seen on 429s. */
  retryAfter: Set<string>;
  /** ms since the start at which each checked guess was answered. */
  checkedAt: number[];
  elapsedMs: number;
}

/** Uniform 6-character codes that are never `avoid` (the live passcodes the test knows). */
export function wrongPasscode(random: () => number, avoid: ReadonlySet<string>): string {
  for (;;) {
    let code = '';
    for (let i = 0; i < PASSCODE_LENGTH; i++) code += PASSCODE_ALPHABET[Math.floor(random() * PASSCODE_ALPHABET.length)];
    if (!avoid.has(code)) return code;
  }
}

export async function guess(options: {
  url: string;
  seconds: number;
  concurrency: number;
  random: () => number;
  avoid: ReadonlySet<string>;
  /** Extra headers per request (the header-addressed app takes the client address from one). */
  headers?: () => Record<string, string>;
}): Promise<GuessTally> {
  const tally: GuessTally = { attempts: 0, checked: 0, limited: 0, other: new Map(), retryAfter: new Set(), checkedAt: [], elapsedMs: 0 };
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        tally.attempts++;
        const response = await fetch(`${options.url}/api/games/join`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers?.() },
          body: JSON.stringify({ passcode: wrongPasscode(options.random, options.avoid), name: 'guesser' }),
        });
        await response.arrayBuffer();
        if (response.status === 404) {
          tally.checked++;
          tally.checkedAt.push(performance.now() - started);
        } else if (response.status === 429) {
          tally.limited++;
          tally.retryAfter.add(response.headers.get('retry-after') ?? 'missing');
        } else tally.other.set(response.status, (tally.other.get(response.status) ?? 0) + 1);
      }
    }),
  );
  tally.elapsedMs = performance.now() - started;
  return tally;
}

/**
 * Expected live games found per day by a guesser held to `checkedPerMinute`: each checked guess is uniform over
 * `alphabet^length` codes of which at most `liveGames` are live, so E = checkedPerDay × liveGames / alphabet^length.
 */
export function expectedFindsPerDay(checkedPerMinute: number, liveGames: number, alphabet = PASSCODE_ALPHABET.length, length = PASSCODE_LENGTH): number {
  return (checkedPerMinute * 60 * 24 * liveGames) / alphabet ** length;
}
