/**
 * The JSON lines of a `huddle bot … --json` child, collected as they come: tests wait for one event with `next`.
 * Shared by the suites that drive bots as processes (the compiled binary's, the cluster's).
 */

export interface BotLine {
  event: string;
  passcode?: string;
  gameId?: string;
  scores?: { name: string; score: number }[];
  difficulty?: string;
}

export interface BotLines {
  lines: BotLine[];
  /** The first line of this event (already seen, or the next to come); rejects after `timeoutMs` listing what came. */
  next(event: string, timeoutMs?: number): Promise<BotLine>;
}

/** Reads `stdout` to its end in the background; a line that is not JSON is skipped. */
export function collectBotLines(stdout: ReadableStream<Uint8Array>): BotLines {
  const lines: BotLine[] = [];
  const waiters: { event: string; resolve: (line: BotLine) => void }[] = [];
  void (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of stdout as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let line: BotLine;
        try {
          line = JSON.parse(text) as BotLine;
        } catch {
          continue;
        }
        lines.push(line);
        for (const waiter of waiters.filter((w) => w.event === line.event)) waiter.resolve(line);
      }
    }
  })();
  return {
    lines,
    next(event, timeoutMs = 20_000) {
      const seen = lines.find((l) => l.event === event);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ event, resolve });
        setTimeout(() => reject(new Error(`bot: no "${event}" within ${timeoutMs} ms; saw ${JSON.stringify(lines)}`)), timeoutMs).unref();
      });
    },
  };
}
