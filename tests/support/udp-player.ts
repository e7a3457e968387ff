import { ArenaClient } from '../../src/game/arena-client.ts';
import { botControls } from '../../src/game/bot-brain.ts';
import { GameClient, type GameView } from '../../src/game/game-client.ts';
import { Channel, createGameLink } from '../../src/game/peer-link.ts';
import { HUDDLE_PROTOCOL_ID } from '../../src/protocol/constants.ts';
import type { ClientState } from '../../src/protocol/netcode/client.ts';
import { openUdpTransport } from '../../src/protocol/transport/udp.ts';
import type { DatagramTransport } from '../../src/protocol/transport/transport.ts';

export interface UdpPlayerOptions {
  /** Send datagrams to this port instead of the token's (a misdirected or hostile client). */
  redirectPort?: number;
  /** Play the round with the bot brain (so it scores), as `huddle bot` does. */
  play?: boolean;
}

/**
 * A player for tests: the real game client on a real UDP socket, ticking at 30 Hz, with bounded waits; it
 * decodes the arena's snapshots, and with `play` it steers and fires with the bot brain.
 */
export class UdpPlayer {
  datagramsReceived = 0;
  private closed = false;
  readonly arena = new ArenaClient();
  private redirectPort: number | undefined;
  private ticker: Timer | undefined;

  private constructor(
    readonly client: GameClient,
    private readonly socket: DatagramTransport,
  ) {}

  static async connect(connectTokenBase64: string, options: UdpPlayerOptions = {}): Promise<UdpPlayer> {
    const now = () => performance.now() / 1000;
    let player: UdpPlayer | undefined;
    const socket = await openUdpTransport({
      hostname: '127.0.0.1',
      port: 0,
      onDatagram: (data, host, port) => {
        if (!player) return;
        player.datagramsReceived++;
        player.client.receive(data, host, port, now());
      },
    });
    const client = new GameClient({
      protocolId: HUDDLE_PROTOCOL_ID,
      createLink: createGameLink,
      send: (data, host, port) => socket.send(data, host, player?.redirectPort ?? port),
      gameChannels: [Channel.Snapshot],
      onGameMessage: (_channel, bytes) => player?.arena.receive(bytes),
    });
    player = new UdpPlayer(client, socket);
    player.redirectPort = options.redirectPort;
    const self = player;
    player.ticker = setInterval(() => {
      const view = client.view;
      const latest = self.arena.latest;
      if (options.play && view.phase === 'playing' && latest && view.you !== undefined) {
        client.sendGameMessage(Channel.Input, self.arena.input(botControls(latest, view.you)));
      }
      client.update(now());
    }, 1000 / 30);
    client.connect(new Uint8Array(Buffer.from(connectTokenBase64, 'base64')), now());
    return player;
  }

  waitFor(predicate: (view: GameView) => boolean, timeoutMs = 5000): Promise<void> {
    return this.until(() => predicate(this.client.view), timeoutMs, 'game view');
  }

  waitForState(predicate: (state: ClientState) => boolean, timeoutMs = 5000): Promise<void> {
    return this.until(() => predicate(this.client.netcodeState), timeoutMs, 'netcode state');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    this.client.disconnect(performance.now() / 1000);
    this.socket.close();
  }

  /** Goes silent without a word to the server: a closed laptop, a phone that lost its network. */
  vanish(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    this.socket.close();
  }

  private async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (phase ${this.client.view.phase}, netcode state ${this.client.netcodeState})`);
      await Bun.sleep(10);
    }
  }
}
