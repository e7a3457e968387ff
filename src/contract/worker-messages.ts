/**
 * The game <-> matchmaker contract: the supervision channel's messages (Bun's postMessage today; stdio or a socket
 * for an out-of-process launcher) and the HTTP report's body. It sits below both sides: the game (src/game) and
 * the worker runtime (src/workers) import its types, the matchmaker its schemas, and neither side imports the
 * other for it. Every message is plain JSON-able data, validated on receipt on both sides: nothing here assumes the
 * two share memory, and no secret ever travels on this channel.
 *
 * The HTTP report (`POST /internal/games/:id/report` with the bearer reporting token) is the authenticated
 * contract that changes a game's state; the `report` message on this channel is informational (logged).
 *
 * Game code imports only types from here (erased at build time), so a game worker never loads TypeBox: the one
 * check it runs is compiled ahead of time (src/game/validators.generated.ts, `npm run generate`).
 */
import { type SchemaOptions, type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox';
import { DIFFICULTIES } from '../game/lobby.ts';
import { TICK_BUCKETS_MS } from './tick-buckets.ts';

const strict = { additionalProperties: false } as const;

/** A union of string literals typed as such (a plain `.map` would lose the literal types). */
export function literalUnion<const T extends readonly [string, ...string[]]>(
  values: T,
  options?: SchemaOptions,
): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
}

export const Difficulty = literalUnion(DIFFICULTIES, { description: "The host's choice of difficulty", examples: ['normal'] });

export const PlayerResult = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 96, description: 'Display name as the player connected with' }),
    score: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
    /** The player left the game (or their seat expired) before the round ended: listed, marked "left". */
    left: Type.Optional(Type.Boolean()),
  },
  strict,
);

/** A netcode client id as decimal text (JSON has no u64). It names a seat; it is not a secret. */
export const ClientIdText = Type.String({ pattern: '^[0-9]{1,20}$', description: 'A seat: netcode client id, decimal' });

/** Body of `POST /internal/games/:id/report`, and the payload of the channel's `report` message. */
export const GameReport = Type.Union(
  [
    Type.Object({ status: Type.Literal('in_progress'), difficulty: Difficulty }, { ...strict, title: 'InProgressReport' }),
    Type.Object(
      {
        status: Type.Literal('finished'),
        results: Type.Array(PlayerResult, { maxItems: 256 }),
        /** Whose seat was host when the round ended (host migration may have moved it): they may start a game again. */
        hostClientId: Type.Optional(ClientIdText),
      },
      { ...strict, title: 'FinishedReport' },
    ),
    /** The round ended because every player left (or no player was connected when the timer ran out): kept, never ranked. */
    Type.Object(
      { status: Type.Literal('abandoned'), results: Type.Array(PlayerResult, { maxItems: 256 }) },
      { ...strict, title: 'AbandonedReport' },
    ),
  ],
  {
    examples: [
      { status: 'in_progress', difficulty: 'normal' },
      { status: 'finished', results: [{ name: 'ada', score: 12 }, { name: 'bob', score: 7 }] },
    ],
  },
);
export type GameReport = Static<typeof GameReport>;

/** What the worker is doing, as it says in each heartbeat. */
export const WORKER_PHASES = ['lobby', 'starting', 'playing', 'ending'] as const;
export type WorkerPhase = (typeof WORKER_PHASES)[number];

/** Why a worker ends on purpose; anything else (an early close with no `exiting`) is a failure. */
export const EXIT_REASONS = ['lobby_idle', 'lobby_empty', 'round_over', 'round_abandoned', 'shutdown'] as const;
export type WorkerExitReason = (typeof EXIT_REASONS)[number];

const Count = Type.Integer({ minimum: 0, maximum: 256 });
const Millis = Type.Number({ minimum: 0, maximum: 600_000 });

/** p50/p99/max over one heartbeat interval's ticks, and how many fell in each of TICK_BUCKETS_MS. */
export const TickDurations = Type.Object(
  {
    p50Ms: Millis,
    p99Ms: Millis,
    maxMs: Millis,
    counts: Type.Array(Type.Integer({ minimum: 0, maximum: 1_000_000 }), { minItems: TICK_BUCKETS_MS.length + 1, maxItems: TICK_BUCKETS_MS.length + 1 }),
  },
  strict,
);
export type TickDurations = Static<typeof TickDurations>;

/** The game loop's health since the previous heartbeat (src/workers/tick-timer.ts says how each is taken). */
export const TickStats = Type.Object(
  {
    /** Wakes of the game loop (a round's snapshots, each running the steps due; its 30 Hz or 10 Hz updates otherwise); the name predates them. */
    ticks: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    /** Tick periods given up after a wake started more than 5 periods late (a stall). */
    missed: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    /** Datagrams handled (each timed into the following tick's work). */
    datagrams: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
    /** Actual start − due time of each wake (the round's steps at start + n/30 s, snapshots at start + m/20 s). */
    lateness: TickDurations,
    /** Per wake: its update plus the handling of every datagram since the previous wake. */
    work: TickDurations,
  },
  strict,
);
export type TickStats = Static<typeof TickStats>;

/** A held player seat as the game sees it, for the admin view: connected or away, and its round-trip time. */
export const SeatState = Type.Object({ name: Type.String({ maxLength: 96 }), connected: Type.Boolean(), pingMs: Millis }, strict);
export type SeatState = Static<typeof SeatState>;

export const WorkerToMatchmaker = Type.Union([
  /**
   * A warm game (HUDDLE_STANDBY=1) posts this once, loaded and with its UDP socket bound, and then waits for
   * `begin`; it posts `ready` only after that.
   */
  Type.Object({ type: Type.Literal('standby') }, strict),
  /** Posted once, after the UDP socket is bound; `port` must be the one given in HUDDLE_GAME_PORT. */
  Type.Object({ type: Type.Literal('ready'), port: Type.Integer({ minimum: 1, maximum: 65535 }) }, strict),
  /** Posted every HUDDLE_HEARTBEAT_INTERVAL_MS; silence past the heartbeat timeout = hung worker. */
  Type.Object(
    {
      type: Type.Literal('heartbeat'),
      players: Count,
      phase: literalUnion(WORKER_PHASES),
      /** The game loop's tick lateness and work since the previous heartbeat, for capacity planning and /metrics. */
      tick: Type.Optional(TickStats),
      /** The held player seats (the admin view shows who is connected and each ping). */
      seats: Type.Optional(Type.Array(SeatState, { maxItems: 256 })),
    },
    strict,
  ),
  /**
   * Posted when the set of seats changes. `count` is the seats taken (connected players and dropped players whose
   * seat is held for a rejoin: both count against max players); `names` are theirs; `spectators` connected watchers.
   */
  Type.Object(
    {
      type: Type.Literal('players'),
      count: Count,
      names: Type.Optional(Type.Array(Type.String({ maxLength: 96 }), { maxItems: 256 })),
      spectators: Type.Optional(Count),
    },
    strict,
  ),
  /**
   * A seat is gone for good: its player left on purpose, or was dropped and did not come back within the rejoin
   * grace. The matchmaker answers a later rejoin for it with 409 game_over.
   */
  Type.Object({ type: Type.Literal('seat_released'), clientId: ClientIdText }, strict),
  Type.Object({ type: Type.Literal('report'), report: GameReport }, strict),
  /** The worker cannot go on (e.g. its port is taken); it is terminated and its game failed. */
  Type.Object({ type: Type.Literal('fatal'), message: Type.String({ maxLength: 1000 }) }, strict),
  /** An event in the game's life (player joined, start refused, …) for the matchmaker's log, tagged with the game id there. */
  Type.Object(
    {
      type: Type.Literal('log'),
      event: Type.String({ pattern: '^[a-z_]{1,40}$' }),
      fields: Type.Record(Type.String({ pattern: '^[A-Za-z]{1,32}$' }), Type.Union([Type.String({ maxLength: 200 }), Type.Number(), Type.Boolean()]), { maxProperties: 12 }),
    },
    strict,
  ),
  /** Posted right before the worker ends on purpose, so its close is not read as a crash. */
  Type.Object({ type: Type.Literal('exiting'), reason: literalUnion(EXIT_REASONS) }, strict),
]);
export type WorkerToMatchmaker = Static<typeof WorkerToMatchmaker>;

export const MatchmakerToWorker = Type.Union([
  /**
   * A warm game becomes a game: the creator's request fills in what could not be known when it was started.
   * `maxPlayers` may not exceed its HUDDLE_MAX_PLAYERS (the node's limit). No secret: those were in its environment.
   */
  Type.Object({ type: Type.Literal('begin'), maxPlayers: Type.Integer({ minimum: 1, maximum: 256 }) }, strict),
  /** Tell the players, close the socket, post `exiting {reason:'shutdown'}` and end; terminated after a grace period. */
  Type.Object({ type: Type.Literal('shutdown'), reason: Type.String({ maxLength: 200 }) }, strict),
]);
export type MatchmakerToWorker = Static<typeof MatchmakerToWorker>;
