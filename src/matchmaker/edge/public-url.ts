/**
 * The public base URL: `--public-url` when set, else the scheme and host the request was made with (believing a
 * trusted proxy's X-Forwarded-Proto/Host). Every link the server hands out (share and invite links, `relayUrl`)
 * starts from `publicBase(request)`.
 */
import { originOf } from './origin.ts';
import { requestUrl } from './request-url.ts';

export type PublicUrlParse = { ok: true; url: URL } | { ok: false; error: string };

/** `--public-url`: an absolute http(s) URL with no path beyond "/", no query, no fragment, no credentials. */
export function parsePublicUrl(text: string): PublicUrlParse {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, error: 'expected an absolute URL such as https://games.example.org' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, error: 'must start with https:// or http://' };
  if (url.username !== '' || url.password !== '') return { ok: false, error: 'must not carry a user name or password' };
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return { ok: false, error: 'must be the site root, with no path, query or fragment (huddle serves from /)' };
  }
  return { ok: true, url };
}

/**
 * The base every link is built on, ending in "/": `new URL('/?invite=…', publicBase(request))`. A request that did
 * not come through the listening edge (tests calling `app.handle`) gets its own URL's origin.
 */
export function publicBase(request: Request): URL {
  const origin = originOf(request);
  if (origin) return new URL(origin.base.href);
  return new URL(`${requestUrl(request).origin}/`);
}

/** The relay's WebSocket URL for a game: ws:// or wss:// after the public base's scheme. */
export function relayUrlOf(base: URL, gameId: string): string {
  const url = new URL('/relay', base);
  url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = `?game=${encodeURIComponent(gameId)}`;
  return url.href;
}
