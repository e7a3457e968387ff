/** HTTP/1.1 by hand over TCP, for what fetch will not send: lying Content-Length, bodies on GET, broken framing. */
export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
  /** The bytes as received, for secret scanning. */
  raw: string;
}

/** Sends `request` and collects the answer until the peer closes or `timeoutMs` passes; undefined if none came. */
export async function rawRequest(port: number, request: string | Uint8Array, timeoutMs = 1500): Promise<RawResponse | undefined> {
  const chunks: Uint8Array[] = [];
  const done = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data: (_s, data) => {
        chunks.push(new Uint8Array(data));
        // One response is all we want: stop once the head and its announced body are in.
        if (complete(Buffer.concat(chunks).toString('latin1'))) done.resolve();
      },
      close: () => done.resolve(),
      error: () => done.resolve(),
    },
  });
  socket.write(request);
  const timer = setTimeout(() => done.resolve(), timeoutMs);
  await done.promise;
  clearTimeout(timer);
  socket.end();
  const raw = Buffer.concat(chunks).toString('latin1');
  return raw ? parse(raw) : undefined;
}

function complete(raw: string): boolean {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = raw.slice(0, end).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) return raw.length - end - 4 >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/.test(head)) return raw.endsWith('0\r\n\r\n');
  return false;
}

function parse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  let body = end < 0 ? '' : raw.slice(end + 4);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (headers.get('transfer-encoding')?.includes('chunked')) body = dechunk(body);
  const length = headers.get('content-length');
  if (length !== undefined) body = body.slice(0, Number(length));
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw };
}

function dechunk(text: string): string {
  let out = '';
  let at = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!size) break;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
  return out;
}
