/**
 * One line per event, with the game id when there is one: JSON lines when stdout is not a terminal (for log
 * shippers), `time LEVEL event key=value` when it is.
 *
 * Secrets must never reach a log. Two guards, because one mistake should not be enough to leak:
 * - fields are an allow-list: a field whose name is not in LOG_FIELDS is dropped (and counted as `dropped`), so a
 *   stray `{ privateKey }` or `{ env }` cannot be logged by accident;
 * - values registered with `protect()` (every game's private key and reporting token, in the encodings they are
 *   handled in) are replaced by `[redacted]` wherever they appear in the line, messages included.
 *
 * Lines a client can cause at will (one per request: refused joins, wrong keys, bad report tokens) must never be
 * one line per hostile request: events named in CLIENT_EVENT_PREFIXES are rate-limited per event name (at most
 * `clientLines.lines` per `clientLines.windowMs`), and what was held back is written as one summary line per event
 * and window (`{event, suppressed: n}`) and counted for /metrics (`suppressedCounts`). The secret guards apply to
 * every line that is written, summaries included.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The only field names a log line may carry. Add a name here only if its value can never be a secret. */
export const LOG_FIELDS = [
  'gameId',
  'port',
  'state',
  'from',
  'to',
  'reason',
  'players',
  'maxPlayers',
  'phase',
  'difficulty',
  'durationMs',
  'status',
  'code',
  'message',
  'url',
  'address',
  'count',
  'outcome',
  'live',
  'version',
  // Game events from workers (src/game/session.ts): slot numbers and why a player was dropped.
  'clientIndex',
  'why',
  // The sampler's summary line: how many lines of its event were held back in the window.
  'suppressed',
] as const;
export type LogField = (typeof LOG_FIELDS)[number];
export type LogFields = Partial<Record<LogField, string | number | boolean | null>>;

const ALLOWED = new Set<string>(LOG_FIELDS);
const REDACTED = '[redacted]';

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** Registers a secret value: it is redacted from every later line until `unprotect`. */
  protect(secret: string): void;
  unprotect(secret: string): void;
  /** Lines held back by the client-event sampler so far, by event name (loggers that sample nothing may omit it). */
  suppressedCounts?(): ReadonlyMap<string, number>;
}

/**
 * Events clients cause one per request, by name prefix: the join, key and play-again routes, invite joins, the
 * report route, HTTP-level refusals, the relay's refusals and the edge's connection caps. A new event a client can
 * repeat at will belongs here.
 */
export const CLIENT_EVENT_PREFIXES = ['join.', 'rejoin.', 'watch.', 'again.', 'invite.', 'report.', 'http.', 'relay.', 'conn.'] as const;

export function isClientEvent(event: string): boolean {
  return CLIENT_EVENT_PREFIXES.some((prefix) => event.startsWith(prefix));
}

export interface ClientLineLimit {
  /** Lines written per client event name per window; the rest are counted. */
  lines: number;
  windowMs: number;
}

/** 20 lines per event per 10 s: a 20,000-request flood writes ~20 lines and a summary, an honest burst all of its lines. */
export const DEFAULT_CLIENT_LINES: Readonly<ClientLineLimit> = { lines: 20, windowMs: 10_000 };

export interface LoggerOptions {
  format: 'json' | 'text';
  /** Receives one complete line, without the newline. */
  write?: (line: string) => void;
  minLevel?: LogLevel;
  now?: () => Date;
  /** The client-event sampler's limit (DEFAULT_CLIENT_LINES unless given). */
  clientLines?: ClientLineLimit;
  /** Monotonic ms for the sampler's windows (tests drive it by hand). */
  clock?: () => number;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const min = LEVEL_ORDER[options.minLevel ?? 'info'];
  // Counted, because a protected value registered twice (e.g. two games sharing nothing but a bug) must survive
  // one unprotect.
  const secrets = new Map<string, number>();

  const scrub = (text: string): string => {
    let out = text;
    for (const secret of secrets.keys()) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };

  const sampler = new ClientLineSampler(options.clientLines ?? DEFAULT_CLIENT_LINES, options.clock ?? (() => performance.now()), (summary) =>
    write(scrub(format(summary.level, summary.event, { suppressed: summary.suppressed, durationMs: summary.durationMs }, 0))),
  );

  const format = (level: LogLevel, event: string, kept: Record<string, string | number | boolean | null>, dropped: number): string => {
    const time = now().toISOString();
    if (options.format === 'json') return JSON.stringify({ time, level, event, ...kept, ...(dropped ? { dropped } : {}) });
    const parts = Object.entries(kept).map(([k, v]) => `${k}=${formatText(v)}`);
    if (dropped) parts.push(`dropped=${dropped}`);
    return `${time} ${level.toUpperCase().padEnd(5)} ${event}${parts.length ? ` ${parts.join(' ')}` : ''}`;
  };

  const emit = (level: LogLevel, event: string, fields: LogFields | undefined): void => {
    if (LEVEL_ORDER[level] < min) return;
    if (isClientEvent(event) && !sampler.admit(event, level)) return;
    const kept: Record<string, string | number | boolean | null> = {};
    let dropped = 0;
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (!ALLOWED.has(key) || !isPlain(value)) {
        dropped++;
        continue;
      }
      kept[key] = value;
    }
    write(scrub(format(level, event, kept, dropped)));
  };

  return {
    debug: (event, fields) => emit('debug', event, fields),
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
    protect(secret) {
      // Very short strings would redact ordinary text; real secrets here are 32 random bytes encoded.
      if (secret.length < 16) return;
      secrets.set(secret, (secrets.get(secret) ?? 0) + 1);
    },
    unprotect(secret) {
      const n = secrets.get(secret);
      if (n === undefined) return;
      if (n <= 1) secrets.delete(secret);
      else secrets.set(secret, n - 1);
    },
    suppressedCounts: () => sampler.totals,
  };
}

interface Window {
  startedAt: number;
  written: number;
  held: number;
  /** The most severe level held back, for the summary line. */
  level: LogLevel;
  /** The summary timer, once a line was held back; cleared when the window closes first by the next line. */
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Fixed windows per event name. A window that held lines back is summarised when it ends: by a timer (unref'd, so
 * it never keeps a process alive) or by the event's next line, whichever comes first. Memory is one entry per
 * client event name, and those are code constants.
 */
class ClientLineSampler {
  readonly totals = new Map<string, number>();
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: ClientLineLimit,
    private readonly clock: () => number,
    private readonly summarise: (summary: { level: LogLevel; event: string; suppressed: number; durationMs: number }) => void,
  ) {
    if (!(limit.lines >= 1) || !(limit.windowMs > 0)) throw new RangeError('clientLines needs lines >= 1 and windowMs > 0');
  }

  admit(event: string, level: LogLevel): boolean {
    const now = this.clock();
    let window = this.windows.get(event);
    if (window && now - window.startedAt >= this.limit.windowMs) {
      this.close(event, window, now);
      window = undefined;
    }
    if (!window) {
      window = { startedAt: now, written: 0, held: 0, level };
      this.windows.set(event, window);
    }
    if (window.written < this.limit.lines) {
      window.written++;
      return true;
    }
    if (window.held === 0) {
      const timer = setTimeout(() => {
        const current = this.windows.get(event);
        if (current === window) this.close(event, current, this.clock());
      }, this.limit.windowMs - (now - window.startedAt));
      (timer as { unref?: () => void }).unref?.();
      window.timer = timer;
    }
    window.held++;
    if (LEVEL_ORDER[level] > LEVEL_ORDER[window.level]) window.level = level;
    this.totals.set(event, (this.totals.get(event) ?? 0) + 1);
    return false;
  }

  private close(event: string, window: Window, now: number): void {
    this.windows.delete(event);
    if (window.timer !== undefined) clearTimeout(window.timer);
    if (window.held > 0) this.summarise({ level: window.level, event, suppressed: window.held, durationMs: Math.round(now - window.startedAt) });
  }
}

/** `huddle_log_lines_suppressed_total{event}` for /metrics, from a logger that samples (nothing otherwise). */
export function renderSuppressedLines(log: Logger): string {
  const counts = log.suppressedCounts?.() ?? new Map<string, number>();
  const lines = [
    '# HELP huddle_log_lines_suppressed_total Client-caused log lines held back by the per-event sampler (one summary line per event and window is written instead).',
    '# TYPE huddle_log_lines_suppressed_total counter',
  ];
  for (const [event, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`huddle_log_lines_suppressed_total{event="${event.replace(/[\\"\n]/g, '_')}"} ${count}`);
  }
  return `${lines.join('\n')}\n`;
}

function isPlain(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function formatText(value: string | number | boolean | null): string {
  if (typeof value === 'string') return /^[\w.:/@[\]-]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
  return String(value);
}

/** JSON unless stdout is a terminal, as DESIGN.md section 8 asks; `json`/`text` force one. */
export function resolveLogFormat(format: 'auto' | 'json' | 'text', isTty: boolean = Boolean(process.stdout.isTTY)): 'json' | 'text' {
  if (format !== 'auto') return format;
  return isTty ? 'text' : 'json';
}

/** A logger that drops everything: the default for tests and library use. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  protect() {},
  unprotect() {},
};
