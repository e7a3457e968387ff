import { beforeEach, describe, expect, test } from 'bun:test';
import { CONNECTED_UPDATE_SECONDS, GameSession, IDLE_UPDATE_SECONDS, type ReportOutcome, type SeatCounts, type SessionHost, type SessionOptions } from '../../src/game/session.ts';
import { decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from '../../src/game/messages.ts';
import { rankScores, type Round, type RoundSend, type RoundSetup, type ScoreLine } from '../../src/game/round.ts';
import { encodeSeatData, type SeatKind } from '../../src/game/seat-data.ts';
import type { GameReport, WorkerExitReason } from '../../src/workers/messages.ts';
import { FakeLink } from '../support/fake-link.ts';

const POINTS = 1;
const FRAMES = 2;

/**
 * The smallest round the session can drive: a point per byte value received on channel 1 from a seat, a
 * one-byte "frame" to every receiver on channel 2 at each update, and a clock. It records what the session told
 * it, so the tests can check seats, rejoins and viewers without the arena's physics.
 */
class PointsRound implements Round {
  readonly lines = new Map<number, ScoreLine & { receiver: number | undefined }>();
  readonly viewers = new Set<number>();
  private endsAt = Infinity;

  constructor(readonly setup: RoundSetup) {
    for (const p of setup.players) this.lines.set(p.index, { index: p.index, name: p.name, score: 0, receiver: undefined });
  }

  channels(): readonly number[] {
    return [POINTS];
  }
  begin(now: number): void {
    this.endsAt = now + (this.setup.countdownSeconds ?? 0) + this.setup.roundSeconds;
  }
  onCommand(): boolean {
    return false;
  }
  onMessage(seat: number, channel: number, bytes: Uint8Array): boolean {
    const line = this.lines.get(seat);
    if (channel !== POINTS || bytes.length !== 1) return false;
    if (line && !line.left && line.receiver !== undefined) line.score += bytes[0] as number;
    return true;
  }
  /** When it says it is next due (a test sets it); a frame goes out on every update. */
  nextDue = Infinity;
  nextDueAt(): number {
    return this.nextDue;
  }
  update(_now: number, send: RoundSend): void {
    for (const line of this.lines.values()) if (line.receiver !== undefined) send(line.receiver, FRAMES, new Uint8Array([line.index]));
    for (const viewer of this.viewers) send(viewer, FRAMES, new Uint8Array([255]));
  }
  connect(seat: number, clientIndex: number): void {
    const line = this.lines.get(seat);
    if (line) line.receiver = clientIndex;
  }
  disconnect(seat: number): void {
    const line = this.lines.get(seat);
    if (line) line.receiver = undefined;
  }
  removePlayer(seat: number): void {
    const line = this.lines.get(seat);
    if (!line) return;
    line.receiver = undefined;
    line.left = true;
  }
  addViewer(clientIndex: number): void {
    this.viewers.add(clientIndex);
  }
  removeViewer(clientIndex: number): void {
    this.viewers.delete(clientIndex);
  }
  isOver(now: number): boolean {
    return now >= this.endsAt;
  }
  secondsLeft(now: number): number {
    return Math.max(0, Math.ceil(Math.min(this.setup.roundSeconds, this.endsAt - now)));
  }
  scores(): ScoreLine[] {
    return rankScores(
      [...this.lines.values()].map(({ index, name, score, left, receiver }) => {
        const line: ScoreLine = { index, name, score };
        if (left) line.left = true;
        else if (receiver === undefined) line.connected = false;
        return line;
      }),
    );
  }
}

/** Drives a session with fake connections: each has a FakeLink decoding what the server sent it. */
class Harness {
  readonly inbox = new Map<number, ServerMessage[]>();
  readonly frames = new Map<number, number>();
  readonly clientLinks = new Map<number, FakeLink>();
  readonly disconnected: number[] = [];
  /** Per connection: copies of a packet sent again at once, and the last packet (to tell a copy). */
  readonly repeats = new Map<number, number>();
  private readonly lastPayload = new Map<number, Uint8Array>();
  readonly reports: GameReport[] = [];
  readonly released: bigint[] = [];
  readonly counts: SeatCounts[] = [];
  readonly rounds: PointsRound[] = [];
  ended: WorkerExitReason | undefined;
  answer: (report: GameReport) => Promise<ReportOutcome> = async () => ({ ok: true });
  now = 1000;
  session: GameSession;

  constructor(options: Partial<SessionOptions> = {}, createLink: () => FakeLink = () => new FakeLink()) {
    const host: SessionHost = {
      sendPayload: (index, payload) => {
        // The same packet again is a repeat (last words): a real link drops the copy, and so does this one.
        if (this.lastPayload.get(index) === payload) {
          this.repeats.set(index, (this.repeats.get(index) ?? 0) + 1);
          return;
        }
        this.lastPayload.set(index, payload);
        const link = this.clientLinks.get(index)!;
        link.receivePacket(payload);
        for (const bytes of link.drain(0)) this.inbox.get(index)!.push(decodeServerMessage(bytes)!);
        this.frames.set(index, (this.frames.get(index) ?? 0) + link.drain(FRAMES).length);
      },
      disconnect: (index) => {
        this.disconnected.push(index);
        this.session.playerDisconnected(index, this.now);
      },
      report: (report) => {
        this.reports.push(report);
        return this.answer(report);
      },
      onPlayersChanged: (counts) => this.counts.push(counts),
      onSeatReleased: (clientId) => this.released.push(clientId),
      onEnd: (reason) => (this.ended = reason),
      log: () => {},
    };
    this.session = new GameSession(
      {
        maxPlayers: 4,
        maxSpectators: 2,
        lobbyTimeoutSeconds: 300,
        roundSeconds: 10,
        rejoinGraceSeconds: 60,
        countdownSeconds: 3,
        maxInvalidPerPlayer: 5,
        createLink,
        createRound: (setup) => {
          const round = new PointsRound(setup);
          this.rounds.push(round);
          return round;
        },
        ...options,
      },
      host,
      this.now,
    );
  }

  /** A netcode connection completing: `clientIndex` is netcode's slot, `clientId` the seat's id. */
  connect(clientIndex: number, name: string, clientId = BigInt(100 + clientIndex), kind: SeatKind = 'player'): boolean {
    const userData = encodeSeatData({ name, kind });
    if (!this.session.admit({ clientId, userData })) return false;
    this.clientLinks.set(clientIndex, new FakeLink());
    this.inbox.set(clientIndex, []);
    this.session.playerConnected({ clientIndex, clientId, userData }, this.now);
    this.session.update(this.now);
    return true;
  }

  /** netcode lost the connection (timeout, closed tab). */
  drop(clientIndex: number, replaced = false) {
    this.session.playerDisconnected(clientIndex, this.now, replaced);
    this.session.update(this.now);
  }

  say(index: number, message: ClientMessage) {
    this.sendOn(index, 0, encodeMessage(message));
  }

  sendOn(index: number, channel: number, bytes: Uint8Array) {
    const link = new FakeLink();
    link.send(channel, bytes);
    link.flush(this.now, (p) => this.session.payload(index, p, this.now));
    this.session.update(this.now);
  }

  advance(seconds: number, step = 0.1) {
    const end = this.now + seconds;
    while (this.now < end - 1e-9) {
      this.now = Math.min(end, this.now + step);
      this.session.update(this.now);
    }
  }

  /** Start as host 0 and run into play. */
  async startRound(hostIndex = 0, difficulty: 'easy' | 'normal' | 'hard' = 'hard') {
    this.say(hostIndex, { type: 'start', difficulty });
    await settle();
    this.session.update(this.now);
    this.advance(3.05);
  }

  messages<T extends ServerMessage['type']>(index: number, type: T): Extract<ServerMessage, { type: T }>[] {
    return this.inbox.get(index)!.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  lastLobby(index: number) {
    return this.messages(index, 'lobby').at(-1)!;
  }

  notices(index: number) {
    return this.messages(index, 'notice').map((n) => n.code);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('GameSession: lobby and seats', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });

  test('seats get stable indices in arrival order, whatever netcode slot carries them; the lobby lists them', () => {
    h.connect(5, 'ann');
    h.connect(2, 'bob');
    expect(h.messages(5, 'welcome')[0]).toEqual({ type: 'welcome', you: 0, maxPlayers: 4, role: 'player', rejoined: false, rejoinGraceSeconds: 60 });
    expect(h.messages(2, 'welcome')[0]).toMatchObject({ you: 1 });
    const lobby = h.lastLobby(2);
    expect(lobby.players.map((p) => [p.index, p.name, p.host, p.connected])).toEqual([
      [0, 'ann', true, true],
      [1, 'bob', false, true],
    ]);
    expect(lobby).toMatchObject({ hostIndex: 0, difficulty: 'normal', spectators: [] });
    expect(h.counts.at(-1)).toEqual({ count: 2, names: ['ann', 'bob'], spectators: 0 });
  });

  test('admits new players only while the lobby is open and has seats; spectators up to their own limit', async () => {
    const small = new Harness({ maxPlayers: 2, maxSpectators: 1 });
    expect(small.connect(0, 'a')).toBe(true);
    expect(small.connect(1, 'b')).toBe(true);
    expect(small.connect(2, 'c')).toBe(false);
    expect(small.connect(3, 'zoe', 900n, 'spectator')).toBe(true);
    expect(small.connect(4, 'yan', 901n, 'spectator')).toBe(false);
    expect(small.counts.at(-1)).toEqual({ count: 2, names: ['a', 'b'], spectators: 1 });
    await small.startRound();
    // After the start: no new player, but a held seat is still its player's.
    small.drop(1);
    expect(small.connect(5, 'late', 777n)).toBe(false);
    expect(small.connect(6, 'b', 101n)).toBe(true);
    expect(small.messages(6, 'welcome')[0]).toMatchObject({ you: 1, rejoined: true });
  });

  test('the creator is host even when a friend connected first', () => {
    const c = new Harness({ hostClientId: 555n });
    c.connect(0, 'friend');
    expect(c.lastLobby(0).hostIndex).toBeUndefined();
    c.say(0, { type: 'start', difficulty: 'easy' });
    expect(c.notices(0)).toContain('start-not-host');
    c.advance(0.5);
    c.connect(1, 'creator', 555n);
    expect(c.lastLobby(0)).toMatchObject({ hostIndex: 1 });
    expect(c.lastLobby(0).players.find((p) => p.host)?.name).toBe('creator');
  });

  test('if the creator has not come 3 s after the first player, the first-admitted player is host', () => {
    const c = new Harness({ hostClientId: 555n });
    c.connect(0, 'first');
    c.advance(1);
    c.connect(1, 'second');
    c.advance(1.9);
    expect(c.lastLobby(0).hostIndex).toBeUndefined();
    c.advance(0.2);
    expect(c.lastLobby(0).hostIndex).toBe(0);
  });

  test('a drop holds the seat: everyone is told, the lobby shows the player away, the seat still counts', () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.drop(1);
    expect(h.messages(0, 'notice').at(-1)).toEqual({ type: 'notice', code: 'player-dropped', message: 'bob lost connection — their seat is kept for 60 s' });
    expect(h.lastLobby(0).players.map((p) => [p.name, p.connected])).toEqual([['ann', true], ['bob', false]]);
    expect(h.session.playerCount).toBe(2);
    expect(h.released).toEqual([]);
  });

  test('a rejoin takes back the same seat: welcome{rejoined}, the lobby at once, a notice to the others', () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.drop(1);
    h.advance(20);
    h.connect(7, 'bob', 101n);
    expect(h.messages(7, 'welcome')[0]).toMatchObject({ you: 1, role: 'player', rejoined: true });
    expect(h.messages(7, 'lobby')[0]!.players.map((p) => [p.index, p.name, p.connected])).toEqual([[0, 'ann', true], [1, 'bob', true]]);
    expect(h.messages(0, 'notice').at(-1)).toEqual({ type: 'notice', code: 'player-back', message: 'bob is back' });
    h.advance(50);
    expect(h.released).toEqual([]);
  });

  test('when the grace runs out the seat is released: notice, seat_released, gone from the lobby, index free', () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.drop(1);
    h.advance(59.9);
    expect(h.released).toEqual([]);
    h.advance(0.2);
    expect(h.released).toEqual([101n]);
    expect(h.notices(0).at(-1)).toBe('player-left');
    expect(h.lastLobby(0).players.map((p) => p.name)).toEqual(['ann']);
    expect(h.counts.at(-1)).toEqual({ count: 1, names: ['ann'], spectators: 0 });
    expect(h.connect(3, 'bob', 101n)).toBe(true); // a released seat is gone: this is a new seat (the matchmaker refuses the rejoin)
    expect(h.messages(3, 'welcome')[0]).toMatchObject({ you: 1, rejoined: false });
  });

  test('a lobby whose players all dropped waits for the grace, then closes as empty', () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.drop(0);
    h.drop(1);
    h.advance(30);
    expect(h.ended).toBeUndefined();
    h.advance(31);
    expect(h.released.sort()).toEqual([100n, 101n]);
    expect(h.ended).toBe('lobby_empty');
  });

  test('leave gives the seat up at once and closes the connection; the last one leaving ends the lobby', () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.say(1, { type: 'leave' });
    expect(h.released).toEqual([101n]);
    expect(h.disconnected).toEqual([1]);
    expect(h.messages(0, 'notice').at(-1)).toEqual({ type: 'notice', code: 'player-left', message: 'bob left the game' });
    expect(h.notices(0)).not.toContain('player-dropped');
    expect(h.lastLobby(0).players.map((p) => p.name)).toEqual(['ann']);
    h.say(0, { type: 'leave' });
    expect(h.ended).toBe('lobby_empty');
  });

  test('with no grace a drop releases the seat at once', () => {
    const g = new Harness({ rejoinGraceSeconds: 0 });
    g.connect(0, 'ann');
    g.connect(1, 'bob');
    g.drop(1);
    expect(g.released).toEqual([101n]);
    expect(g.notices(0)).not.toContain('player-dropped');
  });

  test('a takeover: the old connection is told seat-taken, the new one gets the seat at once, nobody hears of a drop', () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    expect(h.session.takeover(1, h.now)).toBe(true);
    expect(h.messages(1, 'closing')).toEqual([{ type: 'closing', code: 'seat-taken', reason: 'This seat was opened in another tab or device.' }]);
    h.drop(1, true);
    expect(h.connect(4, 'bob', 101n)).toBe(true);
    expect(h.messages(4, 'welcome')[0]).toMatchObject({ you: 1, rejoined: true });
    expect(h.notices(0)).toEqual([]);
    expect(h.lastLobby(0).players.map((p) => [p.index, p.connected])).toEqual([[0, true], [1, true]]);
  });

  test('a host who drops keeps the mark for 10 s; after that the longest-connected player gets it, with a notice', () => {
    h.connect(0, 'ann');
    h.advance(1);
    h.connect(1, 'bob');
    h.advance(1);
    h.connect(2, 'cy');
    h.drop(0);
    h.advance(9.9);
    expect(h.lastLobby(1).hostIndex).toBe(0);
    h.advance(0.2);
    expect(h.lastLobby(2).hostIndex).toBe(1);
    expect(h.messages(2, 'notice').at(-1)).toEqual({ type: 'notice', code: 'host-changed', message: 'bob is now the host' });
  });

  test('a host who reloads within 10 s is still host', () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.drop(0);
    h.advance(5);
    h.connect(3, 'ann', 100n);
    h.advance(10);
    expect(h.lastLobby(1).hostIndex).toBe(0);
    expect(h.notices(1)).not.toContain('host-changed');
  });

  test('a host who leaves passes the mark at once', () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.say(0, { type: 'leave' });
    expect(h.lastLobby(1).hostIndex).toBe(1);
    expect(h.notices(1)).toContain('host-changed');
  });

  test("the host's difficulty is shown to everyone; anyone else's pick is ignored", () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.say(0, { type: 'difficulty', difficulty: 'hard' });
    expect(h.lastLobby(1).difficulty).toBe('hard');
    h.say(1, { type: 'difficulty', difficulty: 'easy' });
    h.advance(1.1);
    expect(h.lastLobby(1).difficulty).toBe('hard');
  });

  test('spectators are listed in the lobby, counted apart, cannot chat or start, and leave without a trace', () => {
    h.connect(0, 'ann');
    h.connect(3, 'zoe', 900n, 'spectator');
    expect(h.messages(3, 'welcome')[0]).toEqual({ type: 'welcome', maxPlayers: 4, role: 'spectator', rejoined: false, rejoinGraceSeconds: 60 });
    expect(h.lastLobby(0)).toMatchObject({ spectators: ['zoe'] });
    expect(h.lastLobby(0).players).toHaveLength(1);
    expect(h.counts.at(-1)).toEqual({ count: 1, names: ['ann'], spectators: 1 });
    h.say(3, { type: 'chat', text: 'hi' });
    h.say(3, { type: 'start', difficulty: 'easy' });
    expect(h.messages(0, 'chat')).toEqual([]);
    expect(h.reports).toEqual([]);
    h.drop(3);
    expect(h.lastLobby(0).spectators).toEqual([]);
    expect(h.notices(0)).toEqual([]);
    expect(h.released).toEqual([]);
  });

  test('a refused start leaves the game in the lobby and says why', async () => {
    h.answer = async () => ({ ok: false, reason: 'the matchmaker did not answer in time' });
    h.connect(0, 'host');
    h.say(0, { type: 'start', difficulty: 'normal' });
    await settle();
    h.session.update(h.now);
    expect(h.session.phase).toBe('lobby');
    expect(h.connect(1, 'late')).toBe(true);
    expect(h.messages(0, 'notice').at(-1)).toMatchObject({ code: 'start-refused', message: expect.stringContaining('did not answer') });
    expect(h.messages(0, 'countdown')).toHaveLength(0);
  });

  test('an idle lobby closes, telling the players', () => {
    const idle = new Harness({ lobbyTimeoutSeconds: 5 });
    idle.connect(0, 'a');
    idle.advance(4);
    expect(idle.ended).toBeUndefined();
    idle.say(0, { type: 'chat', text: 'still here' });
    idle.advance(4.5);
    expect(idle.ended).toBeUndefined();
    idle.advance(1);
    expect(idle.ended).toBe('lobby_idle');
    expect(idle.messages(0, 'closing')).toEqual([{ type: 'closing', code: 'lobby-idle', reason: 'The lobby was idle for too long.' }]);
  });

  test('chat is sanitised and broadcast from the seat; garbage gets a connection kicked and its seat released', () => {
    h.connect(4, 'a');
    h.connect(1, 'b');
    h.say(4, { type: 'chat', text: 'hi\u0007 all' });
    expect(h.messages(1, 'chat')).toEqual([{ type: 'chat', from: 0, name: 'a', text: 'hi  all' }]);
    for (let i = 0; i < 5; i++) h.session.payload(1, new Uint8Array([0, 3, 0, 1, 2, 3]), h.now);
    expect(h.disconnected).toEqual([1]);
    expect(h.released).toEqual([101n]);
  });

  test('a connection whose link refuses messages (it stopped acknowledging) is dropped, its seat held; the game goes on', () => {
    let refuse = false;
    let made = 0;
    // The second player's link starts refusing, as the reliability layer does when a peer stops acking.
    const stuck = new Harness({}, () => {
      const link = new FakeLink();
      if (++made === 2) {
        const send = link.send.bind(link);
        link.send = (channel, message) => {
          if (refuse) throw new Error('send queue of channel 0 is full (1024 messages awaiting acknowledgement)');
          send(channel, message);
        };
      }
      return link;
    });
    stuck.connect(0, 'fine');
    stuck.connect(1, 'stuck');
    refuse = true;
    stuck.say(0, { type: 'chat', text: 'anyone there?' });
    stuck.advance(0.2);
    expect(stuck.disconnected).toEqual([1]);
    expect(stuck.ended).toBeUndefined();
    expect(stuck.released).toEqual([]);
    expect(stuck.messages(0, 'chat')).toHaveLength(1);
    expect(stuck.notices(0)).toContain('player-dropped');
  });

  test('shutdown tells everyone and ends', () => {
    h.connect(0, 'a');
    h.connect(1, 'w', 900n, 'spectator');
    h.session.shutdown('The server is shutting down.', h.now);
    expect(h.messages(0, 'closing')).toEqual([{ type: 'closing', code: 'shutdown', reason: 'The server is shutting down.' }]);
    expect(h.messages(1, 'closing')).toHaveLength(1);
    expect(h.ended).toBe('shutdown');
    // Nothing resends a game's last packet, so it goes out three times: two may be lost.
    expect(h.repeats.get(0)).toBe(2);
    expect(h.repeats.get(1)).toBe(2);
  });
});

describe('GameSession: the round', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });

  test('the loop wakes 10 times a second with nobody connected, 30 with someone waiting, and in a round when it says', async () => {
    expect(h.session.nextDueAt(h.now)).toBeCloseTo(h.now + IDLE_UPDATE_SECONDS, 9);
    h.connect(0, 'host');
    expect(h.session.nextDueAt(h.now)).toBeCloseTo(h.now + CONNECTED_UPDATE_SECONDS, 9);
    h.say(0, { type: 'start', difficulty: 'easy' });
    expect(h.session.phase).toBe('starting');
    expect(h.session.nextDueAt(h.now)).toBeCloseTo(h.now + CONNECTED_UPDATE_SECONDS, 9);
    await settle();
    h.session.update(h.now); // the acknowledgement: the countdown starts and the round with it
    h.rounds[0]!.nextDue = h.now + 0.02;
    expect(h.session.nextDueAt(h.now)).toBeCloseTo(h.now + 0.02, 9);
    // Only the round's schedule (not 30 Hz for the connected player) and the countdown's end (3 s).
    h.rounds[0]!.nextDue = h.now + 10;
    expect(h.session.nextDueAt(h.now)).toBeCloseTo(h.now + 3, 9);
    h.rounds[0]!.nextDue = h.now + 0.02;
    h.drop(0); // held for the grace, nobody connected: the round still has its steps due
    expect(h.session.nextDueAt(h.now)).toBeCloseTo(h.now + 0.02, 9);
  });

  test('full flow: the host starts, the start is acknowledged, countdown, round, results reported with the host, everyone let go', async () => {
    h.connect(0, 'host');
    h.connect(1, 'guest');
    h.say(1, { type: 'start', difficulty: 'hard' });
    expect(h.messages(1, 'notice').at(-1)).toMatchObject({ code: 'start-not-host' });
    h.say(0, { type: 'start', difficulty: 'hard' });
    expect(h.reports).toEqual([{ status: 'in_progress', difficulty: 'hard' }]);
    expect(h.session.phase).toBe('starting');
    expect(h.connect(2, 'late')).toBe(false);
    await settle();
    h.session.update(h.now);
    expect(h.messages(0, 'countdown')).toEqual([{ type: 'countdown', difficulty: 'hard', seconds: 3 }]);
    expect(h.rounds[0]!.setup).toMatchObject({ difficulty: 'hard', roundSeconds: 10, countdownSeconds: 3 });
    h.advance(1);
    // The round runs (and shows) from the first countdown frame.
    expect(h.frames.get(0)).toBeGreaterThan(0);
    h.advance(2.05);
    expect(h.session.phase).toBe('playing');
    expect(h.messages(0, 'round').at(-1)).toMatchObject({ type: 'round', secondsLeft: 10 });
    h.sendOn(1, POINTS, new Uint8Array([5]));
    h.sendOn(0, POINTS, new Uint8Array([1]));
    h.advance(10);
    expect(h.reports[1]).toEqual({ status: 'finished', results: [{ name: 'guest', score: 5 }, { name: 'host', score: 1 }], hostClientId: '100' });
    await settle();
    h.session.update(h.now);
    expect(h.messages(0, 'results')[0]).toEqual({
      type: 'results',
      difficulty: 'hard',
      scores: [
        { index: 1, name: 'guest', score: 5 },
        { index: 0, name: 'host', score: 1 },
      ],
    });
    h.advance(2);
    expect(h.disconnected.sort()).toEqual([0, 1]);
    expect(h.ended).toBe('round_over');
  });

  test('mid-round drop and rejoin: the ship waits, the score is kept, the state comes at once', async () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    await h.startRound();
    h.sendOn(1, POINTS, new Uint8Array([7]));
    h.drop(1);
    expect(h.notices(0)).toContain('player-dropped');
    h.advance(1.1);
    expect(h.messages(0, 'round').at(-1)!.scores.find((l) => l.name === 'bob')).toEqual({ index: 1, name: 'bob', score: 7, connected: false });
    h.connect(6, 'bob', 101n);
    const inbox = h.inbox.get(6)!;
    expect(inbox[0]).toMatchObject({ type: 'welcome', you: 1, rejoined: true });
    expect(inbox[1]).toMatchObject({ type: 'round', scores: expect.arrayContaining([{ index: 1, name: 'bob', score: 7 }]) });
    expect(h.notices(0).at(-1)).toBe('player-back');
    h.sendOn(6, POINTS, new Uint8Array([2]));
    h.advance(0.2);
    expect(h.frames.get(6)).toBeGreaterThan(0);
    expect(h.rounds[0]!.lines.get(1)).toMatchObject({ score: 9, receiver: 6 });
  });

  test('a rejoin during the countdown gets the countdown with the time left', async () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.say(0, { type: 'start', difficulty: 'easy' });
    await settle();
    h.session.update(h.now);
    h.drop(1);
    h.advance(1);
    h.connect(3, 'bob', 101n);
    const countdown = h.messages(3, 'countdown')[0]!;
    expect(countdown.seconds).toBeCloseTo(2, 5);
  });

  test('a player whose grace runs out mid-round stays in the results marked left; everyone is told', async () => {
    h.connect(0, 'ann');
    h.connect(1, 'carol');
    await h.startRound();
    h.sendOn(1, POINTS, new Uint8Array([3]));
    h.say(1, { type: 'leave' });
    expect(h.messages(0, 'notice').at(-1)).toEqual({ type: 'notice', code: 'player-left', message: 'carol left the game' });
    expect(h.released).toEqual([101n]);
    expect(h.connect(5, 'carol', 101n)).toBe(false);
    h.advance(10);
    expect(h.reports[1]).toEqual({ status: 'finished', results: [{ name: 'carol', score: 3, left: true }, { name: 'ann', score: 0 }], hostClientId: '100' });
    await settle();
    h.session.update(h.now);
    expect(h.messages(0, 'results')[0]!.scores).toContainEqual({ index: 1, name: 'carol', score: 3, left: true });
  });

  test('a host who leaves mid-round passes the mark at once; the finished report names the new host', async () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    await h.startRound();
    h.say(0, { type: 'leave' });
    expect(h.notices(1)).toEqual(expect.arrayContaining(['player-left', 'host-changed']));
    // The round state that follows the notice at once carries the new host's seat (the results screen's play again).
    expect(h.messages(1, 'round').at(-1)).toMatchObject({ hostIndex: 1 });
    h.advance(10);
    expect(h.reports[1]).toMatchObject({ status: 'finished', hostClientId: '101' });
  });

  test('spectators get frames and round state, send no inputs, are not in the results', async () => {
    h.connect(0, 'ann');
    h.connect(2, 'zoe', 900n, 'spectator');
    await h.startRound();
    h.connect(3, 'yan', 901n, 'spectator'); // mid-round: gets the state at once
    expect(h.inbox.get(3)![1]).toMatchObject({ type: 'round' });
    for (let i = 0; i < 10; i++) h.sendOn(2, POINTS, new Uint8Array([9]));
    expect(h.disconnected).toEqual([]);
    h.advance(10);
    expect(h.frames.get(2)).toBeGreaterThan(10);
    expect(h.frames.get(3)).toBeGreaterThan(10);
    expect(h.reports[1]).toEqual({ status: 'finished', results: [{ name: 'ann', score: 0 }], hostClientId: '100' });
    await settle();
    h.session.update(h.now);
    expect(h.messages(2, 'results')[0]!.scores.map((l) => l.name)).toEqual(['ann']);
  });

  test('every player seat released mid-round: the round is abandoned, whoever watches sees it, the game ends', async () => {
    h = new Harness({ roundSeconds: 120 });
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    h.connect(2, 'zoe', 900n, 'spectator');
    await h.startRound();
    h.sendOn(0, POINTS, new Uint8Array([4]));
    h.say(0, { type: 'leave' });
    h.drop(1);
    h.advance(61);
    expect(h.reports[1]).toEqual({ status: 'abandoned', results: [{ name: 'ann', score: 4, left: true }, { name: 'bob', score: 0, left: true }] });
    await settle();
    h.session.update(h.now);
    expect(h.messages(2, 'results')[0]).toMatchObject({ abandoned: true });
    h.advance(2);
    expect(h.ended).toBe('round_abandoned');
  });

  test('the timer ending with no player connected abandons the round', async () => {
    h.connect(0, 'ann');
    h.connect(1, 'bob');
    await h.startRound();
    h.drop(0);
    h.drop(1);
    h.advance(10.1);
    expect(h.reports[1]).toMatchObject({ status: 'abandoned' });
    expect(h.reports[1]!.status === 'abandoned' && h.reports[1]!.results.map((r) => r.name).sort()).toEqual(['ann', 'bob']);
    await settle();
    h.session.update(h.now);
    expect(h.ended).toBe('round_abandoned');
  });

  test('players who drop during the results are not held', async () => {
    h.connect(0, 'ann');
    await h.startRound();
    h.advance(10);
    h.drop(0);
    expect(h.notices(0)).not.toContain('player-dropped');
    expect(h.connect(4, 'ann', 100n)).toBe(false);
    await settle();
    h.session.update(h.now);
    expect(h.ended).toBe('round_over');
  });
});
