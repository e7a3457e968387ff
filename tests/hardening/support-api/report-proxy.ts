/**
 * A server between the game workers and the matchmaker's report route, to make that route refuse, time out or
 * lose its answer on demand. Workers are pointed at it through `RecordingLauncher.rewriteReportUrl`. A game
 * process's supervision channel (a WebSocket to the report URL's origin) is passed through untouched.
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
  private readonly tunnels = new Set<WebSocket>();

  /** `decide` picks the action for each report (by game, status and how many of that kind came before). */
  constructor(
    private readonly upstream: () => string,
    private readonly decide: (gameId: string, status: string, previous: number) => ProxyAction,
  ) {
    type Pipe = { upstream: WebSocket; queued: (string | Buffer)[] };
    this.server = Bun.serve<Pipe>({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (request, server) => {
        if (!request.url.endsWith('/channel')) return this.handle(request);
        const target = `${this.upstream().replace(/^http/, 'ws')}${new URL(request.url).pathname}`;
        const upstream = new WebSocket(target, { headers: { authorization: request.headers.get('authorization') ?? '' } } as unknown as string[]);
        this.tunnels.add(upstream);
        if (server.upgrade(request, { data: { upstream, queued: [] } })) return undefined as unknown as Response;
        upstream.close();
        return new Response(null, { status: 400 });
      },
      websocket: {
        open: (ws) => {
          const { upstream, queued } = ws.data;
          upstream.onopen = () => {
            for (const frame of queued.splice(0)) upstream.send(frame);
          };
          upstream.onmessage = (event) => ws.send(event.data as string);
          upstream.onclose = () => ws.close();
        },
        message: (ws, message) => {
          const { upstream, queued } = ws.data;
          if (upstream.readyState === WebSocket.OPEN) upstream.send(message);
          else queued.push(message);
        },
        close: (ws) => ws.data.upstream.close(),
      },
    });
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
    for (const tunnel of this.tunnels) tunnel.close();
    await this.server.stop(true);
  }
}
