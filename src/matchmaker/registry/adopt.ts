/**
 * Games that outlive a restart of the matchmaker (`--launcher process`). Each live game has an adoption record,
 * `<dataDir>/games/<gameId>.json` (directory 0700, file 0600, written to a temporary file and renamed into place so
 * a crash mid-write leaves the old record): what rebuilds its GameRecord, its secrets (the private key that mints
 * its tokens, the reporting token its channel and reports authenticate with) and its process's pid. Written at
 * launch and whenever something it holds changes (lifecycle's journal), deleted when the slot is released.
 *
 * On start the registry re-adopts every record (`adoptGames`): the game is back in the state store (its passcode
 * and keys resolve again), its slot and port are held, and the launcher waits (bounded) for its channel to
 * reconnect (a port outside today's --game-ports is held until the game ends). A dead pid, a game still starting
 * (its creator never got a ticket), or no reconnection in time ends it `failed` with `lost_in_restart` (the port is freed once the process is gone).
 * Keys are kept as the store keeps them: hashes, and watch/invite keys sealed with their rejoin key.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../log.ts';
import { DIFFICULTIES, type Difficulty } from '../../game/lobby.ts';
import type { GameLauncher, LauncherEvent, ProcessIdentity } from '../../workers/launcher.ts';
import type { GameState } from '../metrics.ts';
import type { PortPool } from '../ports.ts';
import { type Chain, SeatBook, type SeatKey } from '../seats.ts';
import { GAME_ID_PATTERN } from '../secrets.ts';
import { ClientIds } from '../tokens.ts';
import { type GameRecord, secretTexts } from './game-record.ts';
import { errorMessage, type GameJournal, type GameLifecycle } from './lifecycle.ts';
import type { GameStateStore } from './state-store.ts';
import { NEXT_GAME_MESSAGES } from './types.ts';

const RECORD_VERSION = 1;
const STATES: readonly GameState[] = ['starting', 'lobby', 'in_progress', 'finished', 'failed'];

/** A game's adoption record on disk. Client ids are decimal text (JSON has no u64), bytes base64. */
export interface AdoptionRecord {
  version: typeof RECORD_VERSION;
  id: string;
  name: string;
  passcode: string;
  port: number;
  maxPlayers: number;
  createdAt: number;
  state: GameState;
  difficulty: Difficulty | null;
  outcome: 'finished' | 'abandoned' | null;
  hostAtEnd: string | null;
  endReason: string | null;
  previousId: string | null;
  /** The play-again game the host asked for, as its status shows it. */
  next: { state: 'starting' | 'ready' | 'failed'; gameId: string | null; message: string | null } | null;
  hostClientId: string;
  clientIds: string[];
  seats: { clientId: string; name: string; kind: 'player' | 'spectator'; released: boolean; keyHash: string | null }[];
  /** The seats' key entries that lead into this game (hash → sealed keys). */
  seatKeys: { rejoinHash: string; clientId: string; sealedWatchKey: string; sealedInviteKey: string }[];
  chain: { gameId: string; watchHashes: string[]; inviteHashes: string[] };
  players: number;
  playerNames: string[] | null;
  spectators: number;
  /** base64 (private key), base64url (reporting token): as the game's environment carries them. */
  secrets: { privateKey: string; reportToken: string };
  process: ProcessIdentity;
}

/** The journal of `--launcher process`: one file a live game. Failures are logged, never thrown at a join. */
export class AdoptionJournal implements GameJournal {
  constructor(
    readonly dir: string,
    private readonly state: GameStateStore,
    private readonly log: Logger,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask and does nothing to a directory that exists.
    chmodSync(dir, 0o700);
  }

  saved(record: GameRecord): void {
    const process = record.local.handle?.process;
    if (!process) return;
    try {
      writeAtomically(this.fileOf(record.id), JSON.stringify(toAdoptionRecord(record, this.state, process)));
    } catch (error) {
      this.log.error('game.record_write_failed', { gameId: record.id, message: errorMessage(error) });
    }
  }

  released(record: GameRecord): void {
    this.remove(record.id);
  }

  remove(gameId: string): void {
    try {
      rmSync(this.fileOf(gameId), { force: true });
    } catch (error) {
      this.log.error('game.record_remove_failed', { gameId, message: errorMessage(error) });
    }
  }

  /** Every record on disk; a file that is not one is reported and removed (it can never be adopted). */
  load(): AdoptionRecord[] {
    const records: AdoptionRecord[] = [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return records;
    }
    for (const name of names) {
      if (name.endsWith('.tmp')) {
        rmSync(join(this.dir, name), { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const file = join(this.dir, name);
      let record: AdoptionRecord | undefined;
      try {
        record = parseAdoptionRecord(JSON.parse(readFileSync(file, 'utf8')));
      } catch {
        record = undefined;
      }
      if (!record || `${record.id}.json` !== name) {
        this.log.warn('game.record_invalid', { message: `${name} is not an adoption record; removed` });
        rmSync(file, { force: true });
        continue;
      }
      records.push(record);
    }
    // Oldest first, as the store keeps games.
    return records.sort((a, b) => a.createdAt - b.createdAt);
  }

  private fileOf(gameId: string): string {
    return join(this.dir, `${gameId}.json`);
  }
}

/** The ports the records in `dir` hold, for the startup check of --game-ports (before any registry exists). */
export function adoptionRecordPorts(dir: string): Set<number> {
  const ports = new Set<number>();
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return ports;
  }
  for (const name of names) {
    try {
      const record = parseAdoptionRecord(JSON.parse(readFileSync(join(dir, name), 'utf8')));
      if (record) ports.add(record.port);
    } catch {
      // Not a record: load() reports and removes it.
    }
  }
  return ports;
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}

export function toAdoptionRecord(record: GameRecord, state: GameStateStore, process: ProcessIdentity): AdoptionRecord {
  const seats = [...record.seats.all()];
  const seatKeys: AdoptionRecord['seatKeys'] = [];
  for (const seat of seats) {
    if (seat.keyHash === undefined) continue;
    const entry = state.seatKeyByHash(seat.keyHash);
    // A key that moved on to a play-again game is that game's to keep.
    if (!entry || entry.gameId !== record.id) continue;
    seatKeys.push({
      rejoinHash: seat.keyHash,
      clientId: entry.clientId.toString(10),
      sealedWatchKey: Buffer.from(entry.sealedWatchKey).toString('base64'),
      sealedInviteKey: Buffer.from(entry.sealedInviteKey).toString('base64'),
    });
  }
  const [reportToken, privateKey] = secretTexts(record.local) as [string, string];
  return {
    version: RECORD_VERSION,
    id: record.id,
    name: record.name,
    passcode: record.passcode,
    port: record.port,
    maxPlayers: record.maxPlayers,
    createdAt: record.createdAt,
    state: record.state,
    difficulty: record.difficulty ?? null,
    outcome: record.outcome ?? null,
    hostAtEnd: record.hostAtEnd?.toString(10) ?? null,
    endReason: record.endReason ?? null,
    previousId: record.previousId ?? null,
    next: record.next ? { state: record.next.state, gameId: record.next.gameId, message: record.next.message } : null,
    hostClientId: record.hostClientId.toString(10),
    clientIds: record.clientIds.drawn().map((id) => id.toString(10)),
    seats: seats.map((s) => ({ clientId: s.clientId.toString(10), name: s.name, kind: s.kind, released: s.released, keyHash: s.keyHash ?? null })),
    seatKeys,
    chain: { gameId: record.chain.gameId, watchHashes: [...record.chain.watchHashes], inviteHashes: [...record.chain.inviteHashes] },
    players: record.players,
    playerNames: record.playerNames ?? null,
    spectators: record.spectators,
    secrets: { privateKey, reportToken },
    process,
  };
}

/** The record if `data` is one this version wrote, else undefined (never throws on hostile input). */
export function parseAdoptionRecord(data: unknown): AdoptionRecord | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const r = data as Partial<Record<keyof AdoptionRecord, unknown>>;
  const str = (v: unknown): v is string => typeof v === 'string';
  const int = (v: unknown): v is number => Number.isSafeInteger(v);
  const dec = (v: unknown): v is string => str(v) && /^\d{1,20}$/.test(v);
  const hex = (v: unknown): v is string => str(v) && /^[0-9a-f]{64}$/.test(v);
  const strings = (v: unknown, check: (x: unknown) => boolean): boolean => Array.isArray(v) && v.every(check);
  if (r.version !== RECORD_VERSION || !str(r.id) || !GAME_ID_PATTERN.test(r.id) || !str(r.name) || !str(r.passcode)) return undefined;
  if (!int(r.port) || r.port < 1 || r.port > 65535 || !int(r.maxPlayers) || !int(r.createdAt)) return undefined;
  if (!STATES.includes(r.state as GameState)) return undefined;
  if (r.difficulty !== null && !DIFFICULTIES.includes(r.difficulty as Difficulty)) return undefined;
  if (r.outcome !== null && r.outcome !== 'finished' && r.outcome !== 'abandoned') return undefined;
  if ((r.hostAtEnd !== null && !dec(r.hostAtEnd)) || (r.endReason !== null && !str(r.endReason)) || (r.previousId !== null && !str(r.previousId))) return undefined;
  if (!dec(r.hostClientId) || !strings(r.clientIds, dec)) return undefined;
  const next = r.next as Record<string, unknown> | null | undefined;
  if (next !== null && (typeof next !== 'object' || !['starting', 'ready', 'failed'].includes(next.state as string))) return undefined;
  if (next !== null && ((next.gameId !== null && !str(next.gameId)) || (next.message !== null && !str(next.message)))) return undefined;
  const seatOk = (s: unknown): boolean => {
    const seat = s as Record<string, unknown>;
    return typeof s === 'object' && s !== null && dec(seat.clientId) && str(seat.name) && (seat.kind === 'player' || seat.kind === 'spectator') && typeof seat.released === 'boolean' && (seat.keyHash === null || hex(seat.keyHash));
  };
  const keyOk = (k: unknown): boolean => {
    const key = k as Record<string, unknown>;
    return typeof k === 'object' && k !== null && hex(key.rejoinHash) && dec(key.clientId) && str(key.sealedWatchKey) && str(key.sealedInviteKey);
  };
  if (!strings(r.seats, seatOk) || !strings(r.seatKeys, keyOk)) return undefined;
  const chain = r.chain as Record<string, unknown> | null | undefined;
  if (typeof chain !== 'object' || chain === null || !str(chain.gameId) || !strings(chain.watchHashes, hex) || !strings(chain.inviteHashes, hex)) return undefined;
  if (!int(r.players) || !int(r.spectators) || (r.playerNames !== null && !strings(r.playerNames, str))) return undefined;
  const secrets = r.secrets as Record<string, unknown> | null | undefined;
  if (typeof secrets !== 'object' || secrets === null || !str(secrets.privateKey) || !str(secrets.reportToken)) return undefined;
  if (Buffer.from(secrets.privateKey, 'base64').length !== 32 || Buffer.from(secrets.reportToken, 'base64url').length !== 32) return undefined;
  const proc = r.process as Record<string, unknown> | null | undefined;
  if (typeof proc !== 'object' || proc === null || !int(proc.pid) || proc.pid <= 1 || !str(proc.startTime)) return undefined;
  return data as AdoptionRecord;
}

export interface AdoptDeps {
  state: GameStateStore;
  ports: PortPool;
  lifecycle: GameLifecycle;
  launcher: GameLauncher;
  journal: AdoptionJournal;
  log: Logger;
  /** Monotonic ms. */
  clock: () => number;
  reconnectTimeoutMs: number;
  heartbeatTimeoutMs: number;
  onEvent: (record: GameRecord, event: LauncherEvent) => void;
}

/** Adopts every record on disk; answers how many games were taken back and how many were lost. */
export function adoptGames(deps: AdoptDeps): { adopted: number; lost: number } {
  const { state, ports, lifecycle, launcher, journal, log } = deps;
  let adopted = 0;
  let lost = 0;
  // Games of one group (play again) share their chain object, as they did before the restart.
  const chains = new Map<string, Chain>();
  for (const saved of journal.load()) {
    if (state.game(saved.id)) continue;
    const record = fromAdoptionRecord(saved, deps.clock(), chains);
    // Two records naming one port or one passcode: broken records (copied by hand?); neither side can be trusted.
    if (!ports.claim(saved.port)) {
      log.warn('game.adopt_refused', { gameId: saved.id, port: saved.port, message: 'its port is held by another game' });
      journal.remove(saved.id);
      lost++;
      continue;
    }
    if (!state.restoreGame(record, seatKeysOf(saved))) {
      ports.release(saved.port);
      log.warn('game.adopt_refused', { gameId: saved.id, message: 'its passcode is held by another game' });
      journal.remove(saved.id);
      lost++;
      continue;
    }
    for (const text of secretTexts(record.local)) log.protect(text);
    const onEvent = (event: LauncherEvent): void => deps.onEvent(record, event);
    if (!launcher.adopt) {
      lifecycle.release(record, { state: 'failed', reason: 'lost_in_restart' });
      lost++;
      continue;
    }
    record.local.handle = launcher.adopt(
      {
        gameId: record.id,
        port: record.port,
        reportToken: saved.secrets.reportToken,
        process: saved.process,
        reconnectTimeoutMs: deps.reconnectTimeoutMs,
        heartbeatTimeoutMs: deps.heartbeatTimeoutMs,
      },
      onEvent,
    );
    if (!record.slotHeld) {
      // The process was already gone: ended `lost_in_restart` while adopting.
      lost++;
      continue;
    }
    // Its creator never got a ticket: nobody can join it.
    if (record.state === 'starting') {
      lifecycle.stop(record, { state: 'failed', reason: 'lost_in_restart' });
      lost++;
      continue;
    }
    log.info('game.adopted', { gameId: record.id, state: record.state, port: record.port });
    adopted++;
  }
  return { adopted, lost };
}

function seatKeysOf(saved: AdoptionRecord): { rejoinHash: string; entry: SeatKey }[] {
  return saved.seatKeys.map((k) => ({
    rejoinHash: k.rejoinHash,
    entry: {
      gameId: saved.id,
      clientId: BigInt(k.clientId),
      sealedWatchKey: new Uint8Array(Buffer.from(k.sealedWatchKey, 'base64')),
      sealedInviteKey: new Uint8Array(Buffer.from(k.sealedInviteKey, 'base64')),
    },
  }));
}

function fromAdoptionRecord(saved: AdoptionRecord, now: number, chains: Map<string, Chain>): GameRecord {
  const seats = new SeatBook();
  for (const s of saved.seats) {
    seats.restore({ clientId: BigInt(s.clientId), name: s.name, kind: s.kind, released: s.released, keyHash: s.keyHash ?? undefined });
  }
  let chain = chains.get(saved.chain.gameId);
  if (!chain) {
    chain = { gameId: saved.chain.gameId, watchHashes: new Set(), inviteHashes: new Set() };
    chains.set(chain.gameId, chain);
  }
  for (const hash of saved.chain.watchHashes) chain.watchHashes.add(hash);
  for (const hash of saved.chain.inviteHashes) chain.inviteHashes.add(hash);
  const started = Promise.withResolvers<void>();
  started.resolve();
  return {
    id: saved.id,
    name: saved.name,
    passcode: saved.passcode,
    port: saved.port,
    maxPlayers: saved.maxPlayers,
    createdAt: saved.createdAt,
    launchedAt: now,
    state: saved.state,
    difficulty: saved.difficulty ?? undefined,
    players: saved.players,
    playersReported: true,
    playerNames: saved.playerNames ?? undefined,
    spectators: saved.spectators,
    seats,
    chain,
    outcome: saved.outcome ?? undefined,
    hostAtEnd: saved.hostAtEnd === null ? undefined : BigInt(saved.hostAtEnd),
    previousId: saved.previousId ?? undefined,
    // A play again that was starting when the matchmaker went is lost with it (that game was still starting).
    next:
      saved.next === null
        ? undefined
        : saved.next.state === 'starting'
          ? { state: 'failed', gameId: null, message: NEXT_GAME_MESSAGES.start_failed, done: undefined }
          : { ...saved.next, done: undefined },
    tick: undefined,
    seatStates: undefined,
    emptySince: saved.players === 0 ? now : undefined,
    stateSince: now,
    endReason: saved.endReason ?? undefined,
    clientIds: ClientIds.restore(saved.clientIds.map((id) => BigInt(id))),
    hostClientId: BigInt(saved.hostClientId),
    slotHeld: true,
    local: {
      privateKey: new Uint8Array(Buffer.from(saved.secrets.privateKey, 'base64')),
      reportToken: new Uint8Array(Buffer.from(saved.secrets.reportToken, 'base64url')),
      handle: undefined,
      stopIntent: undefined,
      started,
      exited: Promise.withResolvers<void>(),
    },
  };
}
