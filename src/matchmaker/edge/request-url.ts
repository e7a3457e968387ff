/**
 * A request's URL as a URL object, whatever the client sent. Bun gives a request without a Host header (HTTP/1.0,
 * hand-written clients) a relative URL ("/api/leaderboard"), which `new URL` refuses: such a request gets the
 * listener's own loopback name as its host instead of taking the error handler down with it.
 */
const HOSTLESS = 'http://localhost';

export function requestUrl(request: Request): URL {
  return URL.parse(request.url) ?? new URL(request.url, HOSTLESS);
}

export function requestPath(request: Request): string {
  return requestUrl(request).pathname;
}
