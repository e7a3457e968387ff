/**
 * The create path shared by create and play again: checks the request and the node's capacity, takes a slot and a
 * port, mints the game's secrets and starts its worker; resolves once the worker is ready. Never leaves a
 * half-started game: on any failure the slot and port are released (the port once the worker has closed).
 */
import type { Logger } from '../../log.ts';
import { HUDDLE_PROTOCOL_ID } from '../../protocol/constants.ts';
import type { GameLauncher, LauncherEvent } from '../../workers/launcher.ts';
import type { WorkerEnv } from '../../workers/worker-env.ts';
import { GameError } from '../errors.ts';
import { sanitizeName } from '../../game/messages.ts';
import type { PortPool } from '../ports.ts';
import { newChain, SeatBook } from '../seats.ts';
import { newGameId, randomBytes, SECRET_BYTES } from '../secrets.ts';
import { ClientIds } from '../tokens.ts';
import { type GameRecord, secretTexts } from './game-record.ts';
import { errorMessage, type GameLifecycle } from './lifecycle.ts';
import type { RegistryObserver } from './observer.ts';
import type { GameStateStore } from './state-store.ts';
import type { RegistrySettings } from './types.ts';
import type { WarmGames } from './warm.ts';

export interface LaunchDeps {
  settings: RegistrySettings;
  state: GameStateStore;
  ports: PortPool;
  lifecycle: GameLifecycle;
  launcher: GameLauncher;
  log: Logger;
  reportUrl: (gameId: string) => string;
  /** Wall clock, unix ms. */
  now: () => number;
  /** Monotonic ms. */
  clock: () => number;
  onEvent: (record: GameRecord, event: LauncherEvent) => void;
  /** Claims the passcode cluster-wide and is told the game exists (registry/observer.ts). */
  observer: RegistryObserver;
  /** Games started ahead, which a create takes before it starts one (registry/warm.ts); none when not given. */
  warm?: WarmGames;
}

/** A game server's environment (worker-env.ts) from the node's settings and the game's own identity and secrets. */
export function gameEnv(
  settings: RegistrySettings,
  game: { gameId: string; port: number; privateKey: Uint8Array; reportToken: Uint8Array; reportUrl: string; hostClientId: bigint },
): WorkerEnv {
  return {
    gameId: game.gameId,
    port: game.port,
    bindHost: settings.bindHost,
    publicHost: settings.publicHost,
    privateKey: game.privateKey,
    reportToken: Buffer.from(game.reportToken).toString('base64url'),
    reportUrl: game.reportUrl,
    maxPlayers: settings.maxPlayers,
    lobbyTimeoutSeconds: settings.lobbyTimeoutSeconds,
    roundSeconds: settings.roundSeconds,
    protocolId: HUDDLE_PROTOCOL_ID,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    hostClientId: game.hostClientId,
    rejoinGraceSeconds: settings.rejoinGraceSeconds,
    maxSpectators: settings.maxSpectators,
  };
}

/**
 * A game in its lobby, or a GameError (`capacity`, `no_ports`, `start_failed`, `invalid_name`,
 * `validation_failed`; `draining` is the caller's to check).
 */
export async function launchGame(
  deps: LaunchDeps,
  request: { name: string; maxPlayers?: number },
  previous: GameRecord | undefined,
): Promise<GameRecord> {
  const { settings, state, ports, log } = deps;
  const name = requireName(request.name);
  const maxPlayers = request.maxPlayers ?? settings.maxPlayers;
  if (!Number.isInteger(maxPlayers) || maxPlayers < 1 || maxPlayers > settings.maxPlayers) {
    throw new GameError('validation_failed', `maxPlayers must be from 1 to ${settings.maxPlayers}`);
  }
  if (state.live >= settings.maxGames) {
    throw new GameError('capacity', `all ${settings.maxGames} game slots are in use; try again when a game ends`);
  }
  // A warm game brings its port, id and secrets, minted when it was started; otherwise they are minted now.
  const warm = deps.warm?.claim();
  const port = warm ? warm.port : ports.take();
  if (port === undefined) {
    throw new GameError('no_ports', `all ${ports.size} game ports are in use; try again when a game ends`);
  }

  const id = warm?.gameId ?? newGameId();
  const clientIds = warm?.clientIds ?? new ClientIds();
  let passcode: string;
  try {
    passcode = state.issuePasscode(id);
  } catch (error) {
    // Nothing owns the warm game yet: it must not be left running with its port.
    warm?.abandon();
    if (!warm) ports.release(port);
    throw error;
  }
  const record: GameRecord = {
    id,
    name,
    passcode,
    port,
    maxPlayers,
    createdAt: deps.now(),
    launchedAt: deps.clock(),
    state: 'starting',
    difficulty: undefined,
    players: 0,
    playersReported: false,
    playerNames: undefined,
    spectators: 0,
    seats: new SeatBook(),
    // A play-again game joins its group's chain; the chain moves on to it only once it is ready.
    chain: previous?.chain ?? newChain(id),
    outcome: undefined,
    hostAtEnd: undefined,
    previousId: previous?.id,
    next: undefined,
    tick: undefined,
    seatStates: undefined,
    emptySince: undefined,
    stateSince: deps.clock(),
    endReason: undefined,
    clientIds,
    hostClientId: warm?.hostClientId ?? clientIds.next(),
    slotHeld: true,
    local: {
      privateKey: warm?.privateKey ?? randomBytes(SECRET_BYTES),
      reportToken: warm?.reportToken ?? randomBytes(SECRET_BYTES),
      handle: warm?.handle,
      stopIntent: undefined,
      started: Promise.withResolvers<void>(),
      exited: Promise.withResolvers<void>(),
    },
  };
  // Nobody awaits these when a game dies unseen; they must not surface as unhandled rejections.
  record.local.started.promise.catch(() => {});
  state.addGame(record);
  // Registered with the logger's redaction guard in the encodings they travel in, until the game is released (a
  // warm game's were registered when it was started).
  if (!warm) for (const text of secretTexts(record.local)) log.protect(text);

  if (warm) {
    warm.attach(maxPlayers, record.launchedAt + settings.workerStartTimeoutMs, (event) => deps.onEvent(record, event));
    deps.lifecycle.changed(record);
  } else try {
    record.local.handle = deps.launcher.launch(
      {
        env: { ...gameEnv(settings, { ...record.local, gameId: id, port, reportUrl: deps.reportUrl(id), hostClientId: record.hostClientId }), maxPlayers },
        startTimeoutMs: settings.workerStartTimeoutMs,
        heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
      },
      (event) => deps.onEvent(record, event),
    );
    deps.warm?.startedCold();
    // Its adoption record (`--launcher process`) names the process that now exists.
    deps.lifecycle.changed(record);
  } catch (error) {
    // Nothing was started, so nothing holds the port: release now.
    deps.lifecycle.release(record, { state: 'failed', reason: 'launch_error' });
    log.error('game.launch_error', { gameId: id, message: errorMessage(error) });
    throw new GameError('start_failed', 'the game server could not be started');
  }

  // The passcode is claimed cluster-wide while the worker starts; create answers only once both are done.
  const claimed = deps.observer.claimPasscode(record, () => {
    if (!record.slotHeld) throw new GameError('start_failed', 'the game ended while it started');
    state.revokePasscode(record.passcode);
    record.passcode = state.issuePasscode(id);
    return record.passcode;
  });
  claimed.catch(() => {});
  deps.lifecycle.notify(record, () => deps.observer.gameChanged(record));
  try {
    await record.local.started.promise;
    try {
      await claimed;
    } catch (error) {
      deps.lifecycle.stop(record, { state: 'failed', reason: 'cluster_unavailable' });
      throw error instanceof GameError ? error : new GameError('start_failed', 'the game could not be registered with the cluster');
    }
  } finally {
    // The next warm game starts only now, and after this create's answer has left: started beside this one, it
    // would take the CPU this one's start needs (a worker's start is 20–40 ms of loading), and making a Worker
    // costs the main thread a few ms itself. A game that failed gave its slot back already.
    deps.warm?.refillSoon();
  }
  return record;
}

/** A display name as the game will show it. Throws `invalid_name`. */
export function requireName(raw: string): string {
  // The same cleaning the game applies to the name it reads back from the token.
  const name = sanitizeName(raw);
  if (name === '') throw new GameError('invalid_name', 'the name is empty once control characters are removed');
  return name;
}
