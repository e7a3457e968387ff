/**
 * The operator's view (`--admin-token`): who may use it, and what it shows and does. The registry decides what a
 * live game looks like (`adminGames`, never a secret) and how one ends (`adminEnd`); this class only guards them.
 *
 * Unset token: every admin route answers 404 as if it did not exist. A wrong token: 401, compared in constant
 * time (secretMatches), and at most LINES_PER_WINDOW log lines per minute however many arrive, each saying how
 * many were held back since the last one, so a flood of guesses cannot fill the disk.
 */
import type { Logger } from '../../log.ts';
import { GameError } from '../errors.ts';
import type { AdminGame, GameRegistry } from '../registry.ts';
import { bearerToken, secretMatches } from '../secrets.ts';
import { requestPath } from '../edge/request-url.ts';

export const UNAUTHORIZED_LINES_PER_MINUTE = 3;

/** Fixed one-minute windows: the first few lines of each are written, the rest counted into the next written one. */
export class LineSampler {
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private held = 0;

  constructor(
    private readonly lines: number,
    private readonly windowMs: number,
    private readonly clock: () => number,
  ) {}

  /** undefined: hold this line back; otherwise write it, with this many held back since the last written one. */
  admit(): number | undefined {
    const now = this.clock();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= this.lines) {
      this.held++;
      return undefined;
    }
    this.written++;
    const held = this.held;
    this.held = 0;
    return held;
  }

  /** Lines held back and not yet reported in a written line. */
  get pending(): number {
    return this.held;
  }
}

export class AdminService {
  private readonly token: Uint8Array | undefined;
  private readonly sampler: LineSampler;
  /** Wrong or missing tokens since start, for tests and a future metric. */
  unauthorizedTotal = 0;

  constructor(
    private readonly registry: GameRegistry,
    private readonly log: Logger,
    token: string | undefined,
    clock: () => number = () => performance.now(),
  ) {
    this.token = token === undefined ? undefined : new TextEncoder().encode(token);
    this.sampler = new LineSampler(UNAUTHORIZED_LINES_PER_MINUTE, 60_000, clock);
  }

  get enabled(): boolean {
    return this.token !== undefined;
  }

  /**
   * Lets the request through, or throws: `not_found` (no admin token configured: the route does not exist, said
   * in the words the app uses for any unknown route), `unauthorized` (missing or wrong bearer token).
   */
  authorize(request: Request, address: string): void {
    // Not mounted without a token (the controller checks `enabled`); kept so the class is safe on its own.
    if (this.token === undefined) throw new GameError('not_found', `no route ${request.method} ${requestPath(request)}`);
    if (secretMatches(bearerToken(request.headers.get('authorization')), this.token, 'utf8')) return;
    this.unauthorizedTotal++;
    const held = this.sampler.admit();
    if (held !== undefined) this.log.warn('admin.unauthorized', { address, count: held });
    throw new GameError('unauthorized', 'missing or wrong admin token (Authorization: Bearer <token>)', {
      'WWW-Authenticate': 'Bearer realm="huddle admin"',
    });
  }

  games(): AdminGame[] {
    return this.registry.adminGames();
  }

  end(gameId: string): ReturnType<GameRegistry['adminEnd']> {
    return this.registry.adminEnd(gameId);
  }
}
