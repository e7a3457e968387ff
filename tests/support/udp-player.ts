import { GameClient, type GameView } from '../../src/game/game-client.ts';
import { createGameLink } from '../../src/game/peer-link.ts';
import { HUDDLE_PROTOCOL_ID } from '../../src/protocol/constants.ts';
import type { ClientState } from '../../src/protocol/netcode/client.ts';
import { openUdpTransport } from '../../src/protocol/transport/udp.ts';
import type { DatagramTransport } from '../../src/protocol/transport/transport.ts';

/**
 * A player for tests: the real game client on a real UDP socket, ticking at 30 Hz, with bounded waits.
 * `redirectTo(port)` sends its datagrams to another port than the token names (a misdirected or hostile client).
 */
export class UdpPlayer {
  datagramsReceived = 0;
  private redirectPort: number | undefined;
  private ticker: Timer | undefined;

  private constructor(
    readonly client: GameClient,
    private readonly socket: DatagramTransport,
  ) {}

  static async connect(connectTokenBase64: string, options: { redirectPort?: number } = {}): Promise<UdpPlayer> {
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
    });
    player = new UdpPlayer(client, socket);
    player.redirectPort = options.redirectPort;
    player.ticker = setInterval(() => client.update(now()), 1000 / 30);
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
    clearInterval(this.ticker);
    this.client.disconnect(performance.now() / 1000);
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
