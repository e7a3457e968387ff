import { beforeEach, describe, expect, test } from 'bun:test';
import { GameSession, nameFromUserData, type ReportOutcome, type SessionHost } from '../../src/game/session.ts';
import { decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from '../../src/game/messages.ts';
import { TapRound } from '../../src/game/tap-round.ts';
import type { GameReport, WorkerExitReason } from '../../src/workers/messages.ts';
import { FakeLink } from '../support/fake-link.ts';

const userData = (name: string) => {
  const bytes = new Uint8Array(256);
  bytes.set(new TextEncoder().encode(name));
  return bytes;
};

/** Drives a session with fake players: each has a FakeLink decoding what the server sent it. */
class Harness {
  readonly inbox = new Map<number, ServerMessage[]>();
  readonly clientLinks = new Map<number, FakeLink>();
  readonly disconnected: number[] = [];
  readonly reports: GameReport[] = [];
  ended: WorkerExitReason | undefined;
  answer: (report: GameReport) => Promise<ReportOutcome> = async () => ({ ok: true });
  now = 1000;
  session: GameSession;

  constructor(maxPlayers = 4, lobbyTimeoutSeconds = 60, createLink: () => FakeLink = () => new FakeLink()) {
    const host: SessionHost = {
      sendPayload: (index, payload) => {
        const link = this.clientLinks.get(index)!;
        link.receivePacket(payload);
        for (const bytes of link.drain(0)) this.inbox.get(index)!.push(decodeServerMessage(bytes)!);
      },
      disconnect: (index) => {
        this.disconnected.push(index);
        this.session.playerDisconnected(index, this.now);
      },
      report: (report) => {
        this.reports.push(report);
        return this.answer(report);
      },
      onPlayersChanged: () => {},
      onEnd: (reason) => (this.ended = reason),
      log: () => {},
    };
    this.session = new GameSession(
      { maxPlayers, lobbyTimeoutSeconds, roundSeconds: 10, countdownSeconds: 3, maxInvalidPerPlayer: 5, createLink, createRound: (s) => new TapRound(s) },
      host,
      this.now,
    );
  }

  join(index: number, name: string) {
    this.clientLinks.set(index, new FakeLink());
    this.inbox.set(index, []);
    this.session.playerConnected(index, userData(name), this.now);
    this.session.update(this.now);
  }

  say(index: number, message: ClientMessage) {
    const link = new FakeLink();
    link.send(0, encodeMessage(message));
    link.flush(this.now, (p) => this.session.payload(index, p, this.now));
    this.session.update(this.now);
  }

  advance(seconds: number, step = 0.1) {
    for (let t = 0; t < seconds - 1e-9; t += step) {
      this.now += step;
      this.session.update(this.now);
    }
  }

  messages(index: number, type: ServerMessage['type']) {
    return this.inbox.get(index)!.filter((m) => m.type === type);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('GameSession', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });

  test('welcomes players; the first is host; the lobby lists everyone', () => {
    h.join(2, 'ann');
    h.join(0, 'bob');
    expect(h.messages(2, 'welcome')[0]).toEqual({ type: 'welcome', you: 2, maxPlayers: 4 });
    const lobby = h.messages(0, 'lobby').at(-1)!;
    expect(lobby.type === 'lobby' && lobby.players.map((p) => [p.name, p.host])).toEqual([['ann', true], ['bob', false]]);
  });

  test('admits only while the lobby is open and has room', () => {
    const small = new Harness(2);
    small.join(0, 'a');
    expect(small.session.admit()).toBe(true);
    small.join(1, 'b');
    expect(small.session.admit()).toBe(false);
  });

  test('full flow: host starts, the report is acknowledged, countdown, round, results reported, everyone let go', async () => {
    h.join(0, 'host');
    h.join(1, 'guest');
    h.say(1, { type: 'start', difficulty: 'hard' });
    expect(h.messages(1, 'notice').at(-1)).toMatchObject({ code: 'start-not-host' });
    h.say(0, { type: 'start', difficulty: 'hard' });
    expect(h.reports).toEqual([{ status: 'in_progress', difficulty: 'hard' }]);
    expect(h.session.phase).toBe('starting');
    expect(h.session.admit()).toBe(false);
    await settle();
    h.session.update(h.now);
    expect(h.messages(0, 'countdown')).toEqual([{ type: 'countdown', difficulty: 'hard', seconds: 3 }]);
    h.advance(3.1);
    expect(h.session.phase).toBe('playing');
    for (let i = 0; i < 5; i++) h.say(1, { type: 'tap' });
    h.say(0, { type: 'tap' });
    h.advance(10);
    expect(h.reports[1]).toEqual({ status: 'finished', results: [{ name: 'guest', score: 5 }, { name: 'host', score: 1 }] });
    await settle();
    h.session.update(h.now);
    expect(h.messages(0, 'results')[0]).toMatchObject({ type: 'results', difficulty: 'hard', scores: [{ name: 'guest', score: 5 }, { name: 'host', score: 1 }] });
    h.advance(2);
    expect(h.disconnected.sort()).toEqual([0, 1]);
    expect(h.ended).toBe('round_over');
  });

  test('taps are rate limited', async () => {
    h.join(0, 'host');
    h.say(0, { type: 'start', difficulty: 'easy' });
    await settle();
    h.advance(3.1);
    for (let i = 0; i < 100; i++) h.say(0, { type: 'tap' });
    expect(h.session['round']!.scores()[0]!.score).toBeLessThanOrEqual(11);
  });

  test('a refused start leaves the game in the lobby and says why', async () => {
    h.answer = async () => ({ ok: false, reason: 'the matchmaker did not answer in time' });
    h.join(0, 'host');
    h.say(0, { type: 'start', difficulty: 'normal' });
    await settle();
    h.session.update(h.now);
    expect(h.session.phase).toBe('lobby');
    expect(h.session.admit()).toBe(true);
    expect(h.messages(0, 'notice').at(-1)).toMatchObject({ code: 'start-refused', message: expect.stringContaining('did not answer') });
    expect(h.messages(0, 'countdown')).toHaveLength(0);
  });

  test('when the host leaves, the longest-connected player becomes host and everyone is told', () => {
    h.join(0, 'first');
    h.join(1, 'second');
    h.join(2, 'third');
    h.session.playerDisconnected(0, h.now);
    h.session.update(h.now);
    expect(h.messages(2, 'notice').at(-1)).toMatchObject({ code: 'host-changed', message: 'second is now the host' });
    const lobby = h.messages(2, 'lobby').at(-1)!;
    expect(lobby.type === 'lobby' && lobby.hostIndex).toBe(1);
  });

  test('an idle lobby closes, telling the players', () => {
    const idle = new Harness(4, 5);
    idle.join(0, 'a');
    idle.advance(4);
    expect(idle.ended).toBeUndefined();
    idle.say(0, { type: 'chat', text: 'still here' });
    idle.advance(4.5);
    expect(idle.ended).toBeUndefined();
    idle.advance(1);
    expect(idle.ended).toBe('lobby_idle');
    expect(idle.messages(0, 'closing')).toHaveLength(1);
  });

  test('a lobby everyone left ends', () => {
    h.join(0, 'a');
    h.session.playerDisconnected(0, h.now);
    expect(h.ended).toBe('lobby_empty');
  });

  test('chat is sanitised and broadcast; garbage gets a player kicked', () => {
    h.join(0, 'a');
    h.join(1, 'b');
    h.say(0, { type: 'chat', text: 'hi\u0007 all' });
    expect(h.messages(1, 'chat')).toEqual([{ type: 'chat', from: 0, name: 'a', text: 'hi  all' }]);
    for (let i = 0; i < 5; i++) h.session.payload(1, new Uint8Array([0, 3, 0, 1, 2, 3]), h.now);
    expect(h.disconnected).toEqual([1]);
  });

  test('a player whose link refuses messages (it stopped acknowledging) is dropped; the game goes on', () => {
    let refuse = false;
    let made = 0;
    // The second player's link starts refusing, as the reliability layer does when a peer stops acking.
    const stuck = new Harness(4, 60, () => {
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
    stuck.join(0, 'fine');
    stuck.join(1, 'stuck');
    refuse = true;
    stuck.say(0, { type: 'chat', text: 'anyone there?' });
    stuck.advance(0.2);
    expect(stuck.disconnected).toEqual([1]);
    expect(stuck.ended).toBeUndefined();
    expect(stuck.messages(0, 'chat')).toHaveLength(1);
  });

  test('shutdown tells everyone and ends', () => {
    h.join(0, 'a');
    h.session.shutdown('The server is shutting down.', h.now);
    expect(h.messages(0, 'closing')).toEqual([{ type: 'closing', reason: 'The server is shutting down.' }]);
    expect(h.ended).toBe('shutdown');
  });

  test('names come from the token user data, sanitised', () => {
    expect(nameFromUserData(userData('  zoë\u202e '))).toBe('zoë');
    expect(nameFromUserData(new Uint8Array([0xff, 0xfe, 0]))).toBe('');
  });
});
