/**
 * `/api/games`: create, join by passcode or invite link, rejoin a seat, watch, play again, public status and results. Thin: the
 * service and registry decide. Request bodies are never logged (they carry passcodes and keys).
 */
import { Elysia } from 'elysia';
import { GameError } from '../errors.ts';
import { BODY_ERRORS, type ClientAddressOf, errorResponses } from '../http.ts';
import type { SeatTicket as SeatTicketValue } from '../registry.ts';
import { bearerToken } from '../secrets.ts';
import { publicBase, relayUrlOf } from '../edge/public-url.ts';
import { CreatedGame, CreateGameBody, GameIdParams, GameResults, GameStatus, JoinGameBody, RejoinBody, SeatTicket, WatchBody, WatchTicket } from './model.ts';
import { type GamesService, resultsView } from './service.ts';
import type { ClusterFront } from '../cluster/front.ts';

export interface GamesControllerOptions {
  service: GamesService;
  maxPlayers: number;
  clientAddress: ClientAddressOf;
  /** Several nodes: answers what this node does not host by forwarding to the node that does (cluster/front.ts). */
  cluster?: ClusterFront;
}

/** What the routes answer with when the shared store or the node that can answer cannot be reached. */
const CLUSTER_ERRORS = {
  cluster_unavailable: 'Several nodes: the shared state store is unreachable; try again shortly (Retry-After)',
  node_unreachable: 'Several nodes: the node that hosts the game (or has a free slot) did not answer in time (Retry-After)',
} as const;

/** Where browsers reach a game: the WebSocket relay on this same server, at the public base (wss:// under https). */
export function relayUrlFor(request: Request, gameId: string): string {
  return relayUrlOf(publicBase(request), gameId);
}

/** The invite link to share: the web client's page with `?invite=KEY`, on the public base (--public-url, or the request's). */
export function inviteUrlFor(request: Request, inviteKey: string): string {
  const url = new URL('/', publicBase(request));
  url.search = `?invite=${encodeURIComponent(inviteKey)}`;
  return url.href;
}

/** A player's seat as answered: the invite key becomes the link, and the relay URL is added. */
function seatAnswer<T extends SeatTicketValue>(request: Request, ticket: T): Omit<T, 'inviteKey'> & { relayUrl: string; inviteUrl: string } {
  const { inviteKey, ...rest } = ticket;
  return { ...rest, relayUrl: relayUrlFor(request, ticket.gameId), inviteUrl: inviteUrlFor(request, inviteKey) };
}

export function gamesController({ service, maxPlayers, clientAddress, cluster }: GamesControllerOptions) {
  // Without a cluster every request is this node's own, answered as it always was. A forwarded answer is the
  // hosting node's Response, which Elysia passes through untouched; typed as the local answer so the route's
  // schema still types the local one.
  const seat = <T>(route: Parameters<ClusterFront['seat']>[0], request: Request, ref: Parameters<ClusterFront['seat']>[2], body: unknown, local: () => T | Promise<T>): T | Promise<T> =>
    cluster
      ? (cluster.seat(route, request, ref, body, clientAddress(request), local, () => service.guessBlocked(clientAddress(request))) as Promise<T>)
      : local();
  const passThrough = <T>(answer: Promise<T | Response>): Promise<T> => answer as Promise<T>;
  return new Elysia({ name: 'games', prefix: '/api/games' })
    .post(
      '',
      async ({ body, request, status }) => {
        service.authorizeCreate(bearerToken(request.headers.get('authorization')));
        const local = async () => status(201, seatAnswer(request, await service.create(body)));
        return cluster ? passThrough(cluster.create(request, body, clientAddress(request), local)) : local();
      },
      {
        body: CreateGameBody(maxPlayers),
        response: {
          201: CreatedGame,
          ...errorResponses({
            ...BODY_ERRORS,
            invalid_name: 'The name is empty once cleaned',
            unauthorized: 'This server needs its create token to create games',
            capacity: 'Every game slot is in use',
            no_ports: 'Every game port is in use',
            start_failed: 'The game server did not start in time',
            draining: 'The server is shutting down',
            ...CLUSTER_ERRORS,
          }),
        },
        parse: 'json',
        detail: {
          tags: ['games'],
          summary: 'Create a game',
          description:
            "Starts a game server on its own UDP port and answers once it is ready, with the passcode to read aloud, the `inviteUrl` to share and the host's seat: its connect token, a `rejoinKey` that reopens the seat (keep it private) and a `watchKey` for spectators. The creator is the host. When the server has a create token, send it as `Authorization: Bearer <token>`.",
          security: [{}, { createToken: [] }],
        },
      },
    )
    .post(
      '/join',
      ({ body, request }) =>
        seat('passcode' in body ? 'join' : 'invite', request, body, body, () => seatAnswer(request, service.join(clientAddress(request), body))),
      {
        // Before validation: the schema's union would otherwise strip the extra field and take the first form.
        transform: ({ body }) => {
          if (typeof body === 'object' && body !== null && 'passcode' in body && 'invite' in body) {
            throw new GameError('validation_failed', 'body: send a passcode or an invite, not both');
          }
        },
        body: JoinGameBody,
        response: {
          200: SeatTicket,
          ...errorResponses({
            ...BODY_ERRORS,
            invalid_name: 'The name is empty once cleaned',
            invalid_passcode: 'A passcode has 6 characters (a length hint: not counted as a guess)',
            wrong_passcode: 'No game has that passcode',
            unknown_invite: 'No game has that invite link (counted against no budget)',
            game_started: 'The game has already started',
            game_full: 'The game is full',
            game_over: "The invite link's game has ended",
            rate_limited: 'Too many failed passcode attempts from this address or overall; see Retry-After (never for an invite)',
            ...CLUSTER_ERRORS,
          }),
        },
        parse: 'json',
        detail: {
          tags: ['games'],
          summary: 'Join a game by passcode or invite link',
          description:
            'A new seat in a game still in its lobby: a connect token, the seat\'s `name` (made unique in the game: a second "Ada" is "Ada (2)"), a `rejoinKey` that reopens the seat (keep it private), a `watchKey` for spectators and an `inviteUrl` to pass on. Send `{passcode, name}` or `{invite, name}` (the key of an invite link), never both. Wrong passcodes spend the guess budget (per address and global; 429 with Retry-After once spent, even for the right passcode). An invite is never held back by the guess budget, and an unknown one spends none of it.',
        },
      },
    )
    .post(
      '/rejoin',
      ({ body, request }) => seat('rejoin', request, body, body, () => seatAnswer(request, service.rejoin(clientAddress(request), body.rejoinKey))),
      {
        body: RejoinBody,
        response: {
          200: SeatTicket,
          ...errorResponses({
            ...BODY_ERRORS,
            unknown_seat: 'No seat has that rejoin key (counted as a guess)',
            game_over: 'The game has ended, or the seat was given up (the player left, or did not come back within the rejoin grace)',
            rate_limited: 'Too many failed attempts from this address or overall; see Retry-After',
            ...CLUSTER_ERRORS,
          }),
        },
        parse: 'json',
        detail: {
          tags: ['seats'],
          summary: 'Reopen your seat',
          description:
            'A fresh connect token for the same seat (same client id, same name) after a reload or a lost connection, in the lobby or during the round: the game keeps a dropped seat for the rejoin grace (`--rejoin-grace`, 60 s by default) with its ship and score. After a play again, the key leads to your seat in the new game. An unknown key spends the guess budget like a wrong passcode.',
        },
      },
    )
    .post(
      '/watch',
      ({ body, request }) =>
        seat('watch', request, body, body, () => {
          const ticket = service.watch(clientAddress(request), body);
          return { ...ticket, relayUrl: relayUrlFor(request, ticket.gameId) };
        }),
      {
        body: WatchBody,
        response: {
          200: WatchTicket,
          ...errorResponses({
            ...BODY_ERRORS,
            invalid_name: 'The name is empty once cleaned',
            unknown_game: 'No game has that watch key (counted as a guess)',
            game_over: 'The game has ended',
            spectators_full: 'The game has as many spectators as it takes (--max-spectators)',
            rate_limited: 'Too many failed attempts from this address or overall; see Retry-After',
            ...CLUSTER_ERRORS,
          }),
        },
        parse: 'json',
        detail: {
          tags: ['seats'],
          summary: 'Watch a game',
          description:
            "A spectator's connect token, in the lobby or during the round: spectators see the game, send no inputs, are not counted in max players and are not in the results. The answer has no passcode and no rejoin key. After a play again, a watch key leads to the new game. An unknown key spends the guess budget like a wrong passcode.",
        },
      },
    )
    .post(
      '/again',
      ({ body, request, status }) =>
        seat('again', request, body, body, async () => status(201, seatAnswer(request, await service.again(clientAddress(request), body.rejoinKey)))),
      {
        body: RejoinBody,
        response: {
          201: SeatTicket,
          ...errorResponses({
            ...BODY_ERRORS,
            not_host: 'Only the host at the end of the round can start the next game',
            unknown_seat: 'No seat has that rejoin key (counted as a guess)',
            not_finished: 'The game has not finished a round (or the round was abandoned)',
            rate_limited: 'Too many failed attempts from this address or overall; see Retry-After',
            capacity: 'Every game slot is in use (the old game shows next.state "failed")',
            no_ports: 'Every game port is in use',
            start_failed: 'The new game server did not start in time',
            draining: 'The server is shutting down',
            ...CLUSTER_ERRORS,
          }),
        },
        parse: 'json',
        detail: {
          tags: ['seats'],
          summary: 'Play again with the same group',
          description:
            "The host at the end of a finished round (send the host's rejoin key) starts the next game: a new game server, passcode and results, the same max players, the caller as its host. Every player still seated in the old game gets a seat of the same name in it, and every rejoin and watch key of the group now leads there. The old game's status shows `next` (`starting`, then `ready` with the new game id, or `failed` with a message): the others poll it and, at `ready`, call rejoin (players) or watch (spectators) with the key they hold. A second call answers the same new game.",
        },
      },
    )
    .get('/:id', ({ params, request }) => (cluster ? passThrough(cluster.status(request, params.id, () => service.status(params.id))) : service.status(params.id)), {
      params: GameIdParams,
      response: { 200: GameStatus, ...errorResponses({ not_found: 'No such game', ...CLUSTER_ERRORS }) },
      parse: 'json',
      detail: {
        tags: ['games'],
        summary: 'Public status of a game',
        description:
          'State, seats taken, spectators, max players, difficulty, why it ended, and `next`: the play-again game once the host asked for one (poll it on the results screen). Never a secret.',
      },
    })
    .get('/:id/results', async ({ params, request }) => (cluster ? resultsView(await cluster.results(request, params.id, () => service.stored(params.id))) : service.results(params.id)), {
      params: GameIdParams,
      response: {
        200: GameResults,
        ...errorResponses({ not_found: 'No such game', not_finished: 'The game has not finished a round', cluster_unavailable: CLUSTER_ERRORS.cluster_unavailable }),
      },
      parse: 'json',
      detail: {
        tags: ['games'],
        summary: 'Final leaderboard of a round',
        description:
          "Every player who played, best first, with `left: true` for those who left before the end. `outcome` is `abandoned` when every player left (or nobody was connected when the timer ran out): such a round is kept but never ranked on the leaderboard.",
      },
    });
}
