/**
 * The cluster's /metrics families: whether the shared store is reachable, the requests this node forwarded to
 * another (by route and outcome), and what its publisher could not write yet. Labels are route and outcome names
 * only: never a passcode, key or game id.
 */
export const FORWARD_ROUTES = ['create', 'join', 'invite', 'rejoin', 'watch', 'again', 'status', 'results'] as const;
export type ForwardRoute = (typeof FORWARD_ROUTES)[number];
/** ok: 2xx; refused: 4xx from the hosting node; failed: its 5xx; unreachable: no answer in time. */
export const FORWARD_OUTCOMES = ['ok', 'refused', 'failed', 'unreachable'] as const;
export type ForwardOutcome = (typeof FORWARD_OUTCOMES)[number];

export class ClusterMetrics {
  private readonly forwards = new Map<string, number>();
  /** Answers a node gave from the directory's copy because the hosting node is gone (status, results). */
  answeredFromDirectory = 0;
  /** Directory writes that failed and were kept to retry. */
  publishFailures = 0;
  /** Times the node republished everything it owns (after the shared store came back). */
  republishes = 0;
  /** Games this node ended because the cluster declared them lost. */
  gamesLost = 0;

  forwarded(route: ForwardRoute, outcome: ForwardOutcome): void {
    const key = `${route} ${outcome}`;
    this.forwards.set(key, (this.forwards.get(key) ?? 0) + 1);
  }

  forwardedCount(route: ForwardRoute, outcome: ForwardOutcome): number {
    return this.forwards.get(`${route} ${outcome}`) ?? 0;
  }

  render(live: { available: boolean; pending: number; redis: boolean }): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family('huddle_cluster_available', 'gauge', 'Whether the shared state store is reachable (1; always 1 on a single node without --redis-url).');
    lines.push(`huddle_cluster_available ${live.available ? 1 : 0}`);
    family('huddle_cluster_redis', 'gauge', 'Whether this node shares state with others through Redis (--redis-url).');
    lines.push(`huddle_cluster_redis ${live.redis ? 1 : 0}`);
    family('huddle_cluster_publish_pending', 'gauge', 'Directory writes (summaries, passcodes, key routes, results) waiting to be retried.');
    lines.push(`huddle_cluster_publish_pending ${live.pending}`);
    family('huddle_cluster_forwarded_total', 'counter', 'Requests this node forwarded to the node that hosts the game (or has a free slot), by route and outcome.');
    for (const route of FORWARD_ROUTES) {
      for (const outcome of FORWARD_OUTCOMES) lines.push(`huddle_cluster_forwarded_total{route="${route}",outcome="${outcome}"} ${this.forwardedCount(route, outcome)}`);
    }
    family('huddle_cluster_directory_answers_total', 'counter', "Status and results answered from the directory's copy because the hosting node is gone.");
    lines.push(`huddle_cluster_directory_answers_total ${this.answeredFromDirectory}`);
    family('huddle_cluster_publish_failures_total', 'counter', 'Directory writes that failed (kept and retried).');
    lines.push(`huddle_cluster_publish_failures_total ${this.publishFailures}`);
    family('huddle_cluster_republish_total', 'counter', 'Times this node republished everything it owns after the shared store came back.');
    lines.push(`huddle_cluster_republish_total ${this.republishes}`);
    family('huddle_cluster_games_lost_total', 'counter', 'Games this node ended because the cluster declared them lost (node_lost).');
    lines.push(`huddle_cluster_games_lost_total ${this.gamesLost}`);
    return `${lines.join('\n')}\n`;
  }
}
