/**
 * Where a request came from: the TCP peer, the client address every per-address limit counts (the forwarded one
 * only when the peer is a trusted proxy), and the public base its links are built on. Resolved once per request
 * by the edge's onRequest hook and remembered for that Request object, so any code holding the request (the
 * games controller, the relay's upgrade, the invites) reads the same answer without knowing about proxies.
 */
import { CidrList, normalizeIp } from './cidr.ts';
import { clientFromChain, forwardedClaims } from './forwarded.ts';
import { requestUrl } from './request-url.ts';

export interface RequestOrigin {
  /** The TCP peer as the listener saw it ("unknown" when the server could not tell). */
  readonly peer: string;
  /** The client address for limits: the peer, or what a trusted proxy forwarded. */
  readonly address: string;
  /** The scheme and host the client used (from a trusted proxy, else this listener and the Host header). */
  readonly scheme: 'http' | 'https';
  /** Base of links and of relayUrl: --public-url, or scheme://host of the request. */
  readonly base: URL;
}

export interface OriginSettings {
  /** Peers whose forwarding headers are believed. */
  trustProxy: CidrList;
  /** --public-url, when set: overrides scheme and host for links. */
  publicUrl: URL | undefined;
}

const remembered = new WeakMap<Request, RequestOrigin>();

/** Works out a request's origin from its headers and its TCP peer. Pure: no server needed. */
export function resolveOrigin(request: Request, peer: string | undefined, settings: OriginSettings): RequestOrigin {
  const url = requestUrl(request);
  const peerText = peer === undefined ? 'unknown' : normalizeIp(peer);
  let address = peerText;
  let scheme: 'http' | 'https' = url.protocol === 'https:' ? 'https' : 'http';
  let host = url.host;
  if (peer !== undefined && settings.trustProxy.contains(peer)) {
    const claims = forwardedClaims(request.headers);
    address = normalizeIp(clientFromChain(claims.chain, peer, (a) => settings.trustProxy.contains(a)));
    scheme = claims.proto ?? scheme;
    host = claims.host ?? host;
  }
  const base = settings.publicUrl ? new URL(settings.publicUrl.href) : new URL(`${scheme}://${host}/`);
  return { peer: peerText, address, scheme, base };
}

/** Called by the edge for every request it receives. */
export function rememberOrigin(request: Request, origin: RequestOrigin): void {
  remembered.set(request, origin);
}

/** The origin the edge resolved for this request, if it went through a listening edge (not `app.handle`). */
export function originOf(request: Request): RequestOrigin | undefined {
  return remembered.get(request);
}

/** The client address every per-address limit uses; undefined when the request did not come through the edge. */
export function clientAddressOf(request: Request): string | undefined {
  return remembered.get(request)?.address;
}
