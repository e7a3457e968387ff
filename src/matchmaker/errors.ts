/**
 * Every failure the API can answer with, as a code and an HTTP status. The registry and services throw
 * `GameError` with a code and know nothing of HTTP; the app turns it into `{error: {code, message}}` with the
 * status from ERROR_STATUS (and headers such as Retry-After).
 */
export const ERROR_STATUS = {
  validation_failed: 422,
  bad_request: 400,
  invalid_name: 400,
  invalid_passcode: 400,
  unauthorized: 401,
  not_host: 403,
  not_found: 404,
  wrong_passcode: 404,
  unknown_seat: 404,
  unknown_game: 404,
  unknown_invite: 404,
  game_started: 409,
  game_full: 409,
  game_over: 409,
  spectators_full: 409,
  bad_state: 409,
  not_finished: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_tickets: 429,
  internal: 500,
  capacity: 503,
  no_ports: 503,
  start_failed: 503,
  draining: 503,
  /** Several nodes (--redis-url): the shared state store cannot be reached. */
  cluster_unavailable: 503,
  /** Several nodes: the node that hosts the game (or has a free slot) did not answer a forwarded request. */
  node_unreachable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class GameError extends Error {
  override readonly name = 'GameError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
