/**
 * Passes a request on to the node that can answer it (the one hosting the game, or one with a free slot) and
 * hands its answer back as it is: status, JSON body, Retry-After. The ticket in it names the hosting node (its
 * public host, UDP port and relay URL), since that node built it from the request it received.
 *
 * The forwarded request carries the client's address in X-Forwarded-For (believed only where the receiving node
 * lists this one in --trust-proxy) and FORWARDED_BY naming this node, so the receiver answers from its own
 * registry and never forwards it again: no loops, whatever the directory says.
 */
import { GameError } from '../errors.ts';
import type { ForwardOutcome } from './cluster-metrics.ts';

export const FORWARDED_BY = 'x-huddle-forwarded-by';
/** Answers larger than this from a peer are refused: a ticket is a few KiB, results a few more. */
const MAX_ANSWER_BYTES = 256 * 1024;
/** Headers of the peer's answer that mean something to the client. */
const PASSED_HEADERS = ['retry-after', 'www-authenticate'] as const;

export interface ForwardRequest {
  /** The target node's API base, e.g. http://10.0.0.2:8080 (no trailing slash). */
  apiUrl: string;
  method: 'GET' | 'POST';
  /** Path and query, as the client asked. */
  path: string;
  /** Sent as JSON (POST only). */
  body?: unknown;
  clientAddress: string;
  /** The create token, for a create. */
  authorization?: string | null;
  timeoutMs: number;
}

export interface Forwarded {
  response: Response;
  outcome: ForwardOutcome;
}

export class Forwarder {
  constructor(private readonly nodeId: string) {}

  /** The peer's answer, or a GameError `node_unreachable` (503, Retry-After) when it gives none in time. */
  async forward(request: ForwardRequest): Promise<Forwarded> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-forwarded-for': request.clientAddress,
      [FORWARDED_BY]: this.nodeId,
    };
    if (request.method === 'POST') headers['content-type'] = 'application/json';
    if (request.authorization) headers.authorization = request.authorization;
    let answer: Response;
    let text: string;
    const signal = AbortSignal.timeout(request.timeoutMs);
    try {
      answer = await fetch(`${request.apiUrl}${request.path}`, {
        method: request.method,
        headers,
        body: request.method === 'POST' ? JSON.stringify(request.body ?? {}) : undefined,
        redirect: 'manual',
        signal,
      });
      text = await readCapped(answer, MAX_ANSWER_BYTES);
    } catch {
      throw new GameError('node_unreachable', 'the node that can answer this did not respond; try again shortly', { 'Retry-After': '2' });
    }
    const out = new Headers({ 'content-type': answer.headers.get('content-type') ?? 'application/json; charset=utf-8' });
    for (const name of PASSED_HEADERS) {
      const value = answer.headers.get(name);
      if (value !== null) out.set(name, value);
    }
    const outcome: ForwardOutcome = answer.status < 400 ? 'ok' : answer.status < 500 ? 'refused' : 'failed';
    return { response: new Response(text, { status: answer.status, headers: out }), outcome };
  }
}

/** The body, read chunk by chunk and abandoned (cancelled) past `max` bytes: a peer cannot make us buffer more. */
async function readCapped(response: Response, max: number): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > max) {
    await response.body?.cancel().catch(() => {});
    throw new Error('answer too large');
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    total += chunk.value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new Error('answer too large');
    }
    chunks.push(chunk.value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
