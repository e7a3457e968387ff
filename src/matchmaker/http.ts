/**
 * What every controller shares: the error body schema (so Swagger documents each error status with the same
 * shape the app answers with) and how a request's client address is found.
 */
import { t, type TSchema } from 'elysia';
import { ERROR_STATUS, type ErrorCode } from './errors.ts';

/** `{error: {code, message}}` documented for one status with the codes it can carry. */
export function errorSchema(description: string, codes: readonly ErrorCode[]) {
  return t.Object(
    {
      error: t.Object({
        code: t.Union(codes.map((c) => t.Literal(c)), { description: 'Stable machine-readable error code' }),
        message: t.String({ description: 'Human-readable explanation' }),
      }),
    },
    { description, examples: [{ error: { code: codes[0], message: description } }] },
  );
}

/** Error responses for a route: one schema per status, built from the codes the route may answer with. */
export function errorResponses(described: Partial<Record<ErrorCode, string>>): Record<number, TSchema> {
  const byStatus = new Map<number, { codes: ErrorCode[]; texts: string[] }>();
  for (const [code, text] of Object.entries(described) as [ErrorCode, string][]) {
    const status = ERROR_STATUS[code];
    const entry = byStatus.get(status) ?? { codes: [], texts: [] };
    entry.codes.push(code);
    entry.texts.push(text);
    byStatus.set(status, entry);
  }
  return Object.fromEntries([...byStatus].map(([status, e]) => [status, errorSchema(e.texts.join('; '), e.codes)]));
}

/** Errors any route with a JSON body can answer with, besides its own. */
export const BODY_ERRORS: Partial<Record<ErrorCode, string>> = {
  bad_request: 'The body is not valid JSON',
  validation_failed: 'The body does not match the schema',
  payload_too_large: 'The body is larger than the server accepts',
  unsupported_media_type: 'The body is not application/json',
};

/**
 * Finds the address a request came from, for every per-address limit. The server passes the edge's
 * (src/matchmaker/edge/origin.ts): the TCP peer, or what X-Forwarded-For/Forwarded say when the peer is a trusted
 * proxy (--trust-proxy). From anyone else those headers are ignored: they would let a guesser choose its address.
 */
export type ClientAddressOf = (request: Request) => string;
