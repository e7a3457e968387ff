/**
 * A server between the game workers and the matchmaker's report route, to make that route refuse, time out or
 * lose its answer on demand. Workers are pointed at it through `RecordingLauncher.rewriteReportUrl`.
 */
export type ProxyAction =
  /** Pass the report on and relay the answer. */
  | 'forward'
  /** Answer 503 `{error}` without passing it on (the matchmaker refuses). */
  | 'refuse'
  /** Never answer (until the proxy stops): the worker's request times out. */
  | 'hang'
  /** Pass it on (so the matchmaker acts and stores), then answer the worker 502: the acknowledgement is lost. */
  | 'lose-answer';

export interface SeenReport {
  gameId: string;
  status: string;
  action: ProxyAction;
  /** What the matchmaker answered, when the report was passed on. */
  upstreamStatus?: number;
}

export class ReportProxy {
  readonly seen: SeenReport[] = [];
  private readonly server: ReturnType<typeof Bun.serve>;
  private readonly hanging = new Set<() => void>();

  /** `decide` picks the action for each report (by game, status and how many of that kind came before). */
  constructor(
    private readonly upstream: () => string,
    private readonly decide: (gameId: string, status: string, previous: number) => ProxyAction,
  ) {
    this.server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => this.handle(request) });
  }

  /** Rewrites a worker's report URL to come here instead. */
  rewrite = (url: string): string => {
    const { pathname } = new URL(url);
    return `http://127.0.0.1:${this.server.port}${pathname}`;
  };

  private async handle(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    const gameId = decodeURIComponent(/\/internal\/games\/([^/]+)\/report$/.exec(pathname)?.[1] ?? '');
    const body = await request.text();
    const status = (JSON.parse(body) as { status: string }).status;
    const previous = this.seen.filter((s) => s.gameId === gameId && s.status === status).length;
    const action = this.decide(gameId, status, previous);
    const seen: SeenReport = { gameId, status, action };
    this.seen.push(seen);
    if (action === 'refuse') return Response.json({ error: { code: 'capacity', message: 'refused by the test proxy' } }, { status: 503 });
    if (action === 'hang') {
      return new Promise<Response>((resolve) => {
        const release = () => resolve(new Response(null, { status: 504 }));
        this.hanging.add(release);
      });
    }
    const upstream = await fetch(`${this.upstream()}${pathname}`, {
      method: 'POST',
      headers: { authorization: request.headers.get('authorization') ?? '', 'content-type': 'application/json' },
      body,
    });
    seen.upstreamStatus = upstream.status;
    const text = await upstream.text();
    if (action === 'lose-answer') return Response.json({ error: { code: 'internal', message: 'answer lost by the test proxy' } }, { status: 502 });
    return new Response(text, { status: upstream.status, headers: { 'content-type': 'application/json' } });
  }

  async stop(): Promise<void> {
    for (const release of this.hanging) release();
    this.hanging.clear();
    await this.server.stop(true);
  }
}
