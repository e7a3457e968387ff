/**
 * One line per event, with the game id when there is one: JSON lines when stdout is not a terminal (for log
 * shippers), `time LEVEL event key=value` when it is.
 *
 * Secrets must never reach a log. Two guards, because one mistake should not be enough to leak:
 * - fields are an allow-list: a field whose name is not in LOG_FIELDS is dropped (and counted as `dropped`), so a
 *   stray `{ privateKey }` or `{ env }` cannot be logged by accident;
 * - values registered with `protect()` (every game's private key and reporting token, in the encodings they are
 *   handled in) are replaced by `[redacted]` wherever they appear in the line, messages included.
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
}

export interface LoggerOptions {
  format: 'json' | 'text';
  /** Receives one complete line, without the newline. */
  write?: (line: string) => void;
  minLevel?: LogLevel;
  now?: () => Date;
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

  const emit = (level: LogLevel, event: string, fields: LogFields | undefined): void => {
    if (LEVEL_ORDER[level] < min) return;
    const kept: Record<string, string | number | boolean | null> = {};
    let dropped = 0;
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (!ALLOWED.has(key) || !isPlain(value)) {
        dropped++;
        continue;
      }
      kept[key] = value;
    }
    const time = now().toISOString();
    let line: string;
    if (options.format === 'json') {
      line = JSON.stringify({ time, level, event, ...kept, ...(dropped ? { dropped } : {}) });
    } else {
      const parts = Object.entries(kept).map(([k, v]) => `${k}=${formatText(v)}`);
      if (dropped) parts.push(`dropped=${dropped}`);
      line = `${time} ${level.toUpperCase().padEnd(5)} ${event}${parts.length ? ` ${parts.join(' ')}` : ''}`;
    }
    write(scrub(line));
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
  };
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
