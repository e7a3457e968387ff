/**
 * The embedded game state store: everything in this process's memory, for a single node. Games are kept in
 * creation order (a Map), which is what pruning and the admin view's "oldest first" rely on.
 */
import { PasscodeBook } from '../passcodes.ts';
import { type Chain, type IssuedKeys, KeyIndex, type SeatKey } from '../seats.ts';
import type { GameRecord } from './game-record.ts';
import type { GameStateStore } from './state-store.ts';

export class MemoryGameStateStore implements GameStateStore {
  private readonly records = new Map<string, GameRecord>();
  private readonly passcodes: PasscodeBook;
  private readonly keys = new KeyIndex();
  private liveCount = 0;

  constructor(passcodes: PasscodeBook = new PasscodeBook()) {
    this.passcodes = passcodes;
  }

  game(gameId: string): GameRecord | undefined {
    return this.records.get(gameId);
  }

  games(): Iterable<GameRecord> {
    return this.records.values();
  }

  liveGames(): GameRecord[] {
    const out: GameRecord[] = [];
    for (const record of this.records.values()) if (record.slotHeld) out.push(record);
    return out;
  }

  addGame(record: GameRecord): void {
    this.records.set(record.id, record);
    this.liveCount++;
  }

  releaseSlot(_record: GameRecord): void {
    this.liveCount--;
  }

  get live(): number {
    return this.liveCount;
  }

  pruneHistory(limit: number): void {
    let dead = 0;
    for (const record of this.records.values()) if (!record.slotHeld) dead++;
    for (const [id, record] of this.records) {
      if (dead <= limit) break;
      if (record.slotHeld) continue;
      this.records.delete(id);
      const rejoinHashes = [...record.seats.all()].flatMap((seat) => (seat.keyHash === undefined ? [] : [seat.keyHash]));
      this.keys.forgetGame(id, rejoinHashes, record.chain);
      dead--;
    }
  }

  issuePasscode(gameId: string): string {
    return this.passcodes.issue(gameId);
  }

  gameForPasscode(input: string): string | undefined {
    return this.passcodes.lookup(input);
  }

  revokePasscode(code: string): void {
    this.passcodes.revoke(code);
  }

  issueKeys(chain: Chain, clientId: bigint): IssuedKeys {
    return this.keys.issue(chain, clientId);
  }

  seatKey(rejoinKey: string): SeatKey | undefined {
    return this.keys.seat(rejoinKey);
  }

  watchChain(watchKey: string): Chain | undefined {
    return this.keys.watch(watchKey);
  }

  inviteChain(inviteKey: string): Chain | undefined {
    return this.keys.invite(inviteKey);
  }

  moveSeat(rejoinHash: string, gameId: string, clientId: bigint): boolean {
    return this.keys.moveSeat(rejoinHash, gameId, clientId);
  }

  moveChain(chain: Chain, gameId: string): void {
    chain.gameId = gameId;
  }

  seatKeyByHash(rejoinHash: string): SeatKey | undefined {
    return this.keys.seatByHash(rejoinHash);
  }

  restoreGame(record: GameRecord, seatKeys: readonly { rejoinHash: string; entry: SeatKey }[]): boolean {
    if (!this.passcodes.restore(record.passcode, record.id)) return false;
    this.addGame(record);
    this.keys.restoreChain(record.chain);
    for (const { rejoinHash, entry } of seatKeys) this.keys.restore(rejoinHash, entry, record.chain);
    return true;
  }
}
