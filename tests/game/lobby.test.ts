import { describe, expect, test } from 'bun:test';
import { Lobby } from '../../src/game/lobby.ts';

describe('Lobby', () => {
  test('the first player is host and the door shuts at max players', () => {
    const lobby = new Lobby(2, 300, 0);
    expect(lobby.join(3, 'ann', 1)).toBe(true);
    expect(lobby.host?.clientIndex).toBe(3);
    expect(lobby.join(0, 'bob', 2)).toBe(true);
    expect(lobby.canAdmit()).toBe(false);
    expect(lobby.join(1, 'cy', 3)).toBe(false);
    expect(lobby.list().map((p) => p.name)).toEqual(['ann', 'bob']);
  });

  test('the longest-connected remaining player inherits the host role', () => {
    const lobby = new Lobby(8, 300, 0);
    lobby.join(5, 'host', 1);
    lobby.join(1, 'late', 3);
    lobby.join(2, 'early', 2);
    expect(lobby.leave(1, 4).newHost).toBeUndefined();
    expect(lobby.leave(5, 5).newHost?.name).toBe('early');
    expect(lobby.leave(2, 6).newHost).toBeUndefined();
    expect(lobby.size).toBe(0);
    expect(lobby.host).toBeUndefined();
  });

  test('only the host starts, with a known difficulty, and a refused start reopens the lobby', () => {
    const lobby = new Lobby(8, 300, 0);
    lobby.join(0, 'host', 0);
    lobby.join(1, 'guest', 0);
    expect(lobby.requestStart(1, 'hard', 1)).toBe('not-host');
    expect(lobby.requestStart(0, 'insane', 1)).toBe('bad-difficulty');
    expect(lobby.requestStart(0, 'hard', 1)).toBeUndefined();
    expect(lobby.phase).toBe('starting');
    expect(lobby.canAdmit()).toBe(false);
    expect(lobby.requestStart(0, 'hard', 1)).toBe('not-open');
    lobby.startFailed(2);
    expect(lobby.phase).toBe('open');
    expect(lobby.requestStart(0, 'easy', 3)).toBeUndefined();
    lobby.begin();
    expect(lobby.phase).toBe('begun');
    expect(lobby.canAdmit()).toBe(false);
  });

  test('an idle lobby expires; activity postpones it', () => {
    const lobby = new Lobby(8, 10, 0);
    expect(lobby.idleExpired(9.9)).toBe(false);
    lobby.touch(9);
    expect(lobby.idleExpired(18)).toBe(false);
    expect(lobby.secondsUntilIdleClose(18)).toBeCloseTo(1);
    expect(lobby.idleExpired(19)).toBe(true);
  });
});
