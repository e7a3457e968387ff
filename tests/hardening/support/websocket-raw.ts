/**
 * WebSocket by hand over TCP: upgrade requests with request targets a client would normalise away (dot segments,
 * encoded slashes, absolute form), masked client frames, and clients that vanish without a close handshake.
 */
/** A WebSocket upgrade request for `target` (the request-target exactly as given). */
export function upgradeRequest(target: string, port: number, extraHeaders = ''): string {
  return (
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`
  );
}

/** One client-to-server WebSocket frame (masked, as a client must), FIN set. */
export function clientFrame(payload: Uint8Array, opcode = 0x2): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = new Uint8Array(header + 4 + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = 0x80 | length;
  else if (length < 65536) {
    out[1] = 0x80 | 126;
    out[2] = length >> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(length));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, header);
  for (let i = 0; i < length; i++) out[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/**
 * Upgrades, writes `frames`, then drops the TCP connection without a close handshake: a client that vanishes
 * (crash, network gone). Resolves with the upgrade's status once the connection is gone.
 */
export async function upgradeAndVanish(port: number, target: string, frames: Uint8Array[] = []): Promise<number> {
  const upgraded = Promise.withResolvers<number>();
  let text = '';
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_s, data) {
        if (text.includes('\r\n\r\n')) return;
        text += new TextDecoder().decode(data);
        if (text.includes('\r\n\r\n')) upgraded.resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0));
      },
      close: () => upgraded.resolve(0),
      error: () => upgraded.resolve(0),
    },
  });
  socket.write(upgradeRequest(target, port));
  const timer = setTimeout(() => upgraded.resolve(0), 3000);
  const status = await upgraded.promise;
  clearTimeout(timer);
  if (status === 101) for (const frame of frames) socket.write(frame);
  // end() after the writes: the frames go out, then a FIN and no close frame.
  socket.end();
  return status;
}
