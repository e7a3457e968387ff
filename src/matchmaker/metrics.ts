import { GUESS_SCOPES, type GuessScope } from './rate-limit.ts';

/**
 * The few Prometheus metrics huddle exposes, rendered by hand in the text exposition format (version 0.0.4):
 * a dependency for five metrics would be more code to trust than this.
 */
export const GAME_STATES = ['starting', 'lobby', 'in_progress', 'finished', 'failed'] as const;
export type GameState = (typeof GAME_STATES)[number];

export const JOIN_OUTCOMES = ['ok', 'wrong_passcode', 'invalid_passcode', 'started', 'full', 'rate_limited', 'too_many_tickets', 'invalid_name', 'unavailable'] as const;
export type JoinOutcome = (typeof JOIN_OUTCOMES)[number];

/** Rejoin, watch, play-again and join-by-invite requests: what they present (a key) is never a label, only the outcome. */
export const SEAT_ROUTES = ['rejoin', 'watch', 'again', 'invite'] as const;
export type SeatRoute = (typeof SEAT_ROUTES)[number];
export const SEAT_OUTCOMES = ['ok', 'unknown_key', 'game_over', 'refused', 'rate_limited', 'too_many_tickets'] as const;
export type SeatOutcome = (typeof SEAT_OUTCOMES)[number];

/** Seconds; a Bun worker starts in ~4 ms, the first one in a process in ~15 ms. */
const START_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

export interface LiveSnapshot {
  gamesByState: Record<GameState, number>;
  playersConnected: number;
  /** The worst live game loop's tick lateness p99 over its last heartbeat interval, in ms. */
  worstTickLatenessP99Ms?: number;
  /** The worst live game loop's tick work (update + datagram handling) p99 over its last heartbeat interval, in ms. */
  worstTickWorkP99Ms?: number;
  /** Warm games (--warm-games): standing by now; creates that took one, and creates that found none. */
  warm?: { standingBy: number; claimed: number; missed: number };
}

export class Metrics {
  gamesStarted = 0;
  gamesFinished = 0;
  gamesFailed = 0;
  private readonly joins = new Map<JoinOutcome, number>(JOIN_OUTCOMES.map((o) => [o, 0]));
  private readonly seatRequests = new Map<string, number>();
  private readonly guessRefusals = new Map<GuessScope, number>(GUESS_SCOPES.map((s) => [s, 0]));
  private readonly startBuckets = START_BUCKETS.map(() => 0);
  private startCount = 0;
  private startSum = 0;

  join(outcome: JoinOutcome): void {
    this.joins.set(outcome, (this.joins.get(outcome) ?? 0) + 1);
  }

  joinCount(outcome: JoinOutcome): number {
    return this.joins.get(outcome) ?? 0;
  }

  seatRequest(route: SeatRoute, outcome: SeatOutcome): void {
    const key = `${route} ${outcome}`;
    this.seatRequests.set(key, (this.seatRequests.get(key) ?? 0) + 1);
  }

  /** A guess refused (429) before it was checked, by the budget that refused it (src/matchmaker/rate-limit.ts). */
  guessRefused(scope: GuessScope): void {
    this.guessRefusals.set(scope, (this.guessRefusals.get(scope) ?? 0) + 1);
  }

  guessRefusedCount(scope: GuessScope): number {
    return this.guessRefusals.get(scope) ?? 0;
  }

  seatRequestCount(route: SeatRoute, outcome: SeatOutcome): number {
    return this.seatRequests.get(`${route} ${outcome}`) ?? 0;
  }

  workerStarted(seconds: number): void {
    this.startCount++;
    this.startSum += seconds;
    START_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.startBuckets[i] = (this.startBuckets[i] ?? 0) + 1;
    });
  }

  render(live: LiveSnapshot): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family('huddle_games', 'gauge', 'Games holding a slot (their worker is running), by state.');
    for (const state of GAME_STATES) lines.push(`huddle_games{state="${state}"} ${live.gamesByState[state]}`);
    family('huddle_players_connected', 'gauge', 'Players connected to live games, as their workers report.');
    lines.push(`huddle_players_connected ${live.playersConnected}`);
    family('huddle_game_tick_lateness_p99_seconds_max', 'gauge', 'The worst live game loop: how late its wakes started against their due times (in a round its 20 Hz snapshots, each wake running the 30 Hz steps due), p99 over the last heartbeat interval.');
    lines.push(`huddle_game_tick_lateness_p99_seconds_max ${(live.worstTickLatenessP99Ms ?? 0) / 1000}`);
    family('huddle_game_tick_work_p99_seconds_max', 'gauge', "The worst live game loop: a tick's work (its update and the datagrams handled since the previous tick), p99 over the last heartbeat interval.");
    lines.push(`huddle_game_tick_work_p99_seconds_max ${(live.worstTickWorkP99Ms ?? 0) / 1000}`);
    family('huddle_games_started_total', 'counter', 'Games whose worker became ready.');
    lines.push(`huddle_games_started_total ${this.gamesStarted}`);
    family('huddle_games_finished_total', 'counter', 'Games that ended normally (results stored or lobby closed).');
    lines.push(`huddle_games_finished_total ${this.gamesFinished}`);
    family('huddle_games_failed_total', 'counter', 'Games that failed (worker crashed, hung, exited early or never got ready).');
    lines.push(`huddle_games_failed_total ${this.gamesFailed}`);
    family('huddle_worker_start_seconds', 'histogram', 'Time from launching a game worker to its ready message.');
    START_BUCKETS.forEach((le, i) => lines.push(`huddle_worker_start_seconds_bucket{le="${le}"} ${this.startBuckets[i]}`));
    lines.push(`huddle_worker_start_seconds_bucket{le="+Inf"} ${this.startCount}`);
    lines.push(`huddle_worker_start_seconds_sum ${this.startSum}`);
    lines.push(`huddle_worker_start_seconds_count ${this.startCount}`);
    family('huddle_warm_games', 'gauge', 'Game servers started ahead (--warm-games) and standing by for the next create.');
    lines.push(`huddle_warm_games ${live.warm?.standingBy ?? 0}`);
    family('huddle_warm_claims_total', 'counter', 'Creates with warm games on (--warm-games > 0), by whether one was there to take (warm) or the game was started for the create (cold).');
    lines.push(`huddle_warm_claims_total{start="warm"} ${live.warm?.claimed ?? 0}`, `huddle_warm_claims_total{start="cold"} ${live.warm?.missed ?? 0}`);
    family('huddle_join_attempts_total', 'counter', 'Join-by-passcode attempts, by outcome.');
    for (const outcome of JOIN_OUTCOMES) lines.push(`huddle_join_attempts_total{outcome="${outcome}"} ${this.joinCount(outcome)}`);
    family('huddle_seat_requests_total', 'counter', 'Rejoin, watch, play-again and join-by-invite requests, by route and outcome.');
    for (const route of SEAT_ROUTES) {
      for (const outcome of SEAT_OUTCOMES) {
        lines.push(`huddle_seat_requests_total{route="${route}",outcome="${outcome}"} ${this.seatRequestCount(route, outcome)}`);
      }
    }
    family('huddle_guess_refusals_total', 'counter', 'Passcode and key guesses refused (429) before they were checked, by the budget that refused them.');
    for (const scope of GUESS_SCOPES) lines.push(`huddle_guess_refusals_total{scope="${scope}"} ${this.guessRefusedCount(scope)}`);
    return `${lines.join('\n')}\n`;
  }
}
