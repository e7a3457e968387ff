import { CLOSE_REASONS, DROP_REASONS, REFUSAL_REASONS, type RelayCounters } from './relay-model.ts';

/** The relay's Prometheus families, in the same hand-rendered text format as the matchmaker's own metrics. */
export function renderRelayMetrics(counters: RelayCounters): string {
  const lines: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  family('huddle_relay_sockets', 'gauge', 'Relay tunnels open (one WebSocket and one UDP socket each).');
  lines.push(`huddle_relay_sockets ${counters.openSockets}`);
  family('huddle_relay_udp_sockets', 'gauge', 'UDP sockets the relay holds bound.');
  lines.push(`huddle_relay_udp_sockets ${counters.boundUdpSockets}`);
  family('huddle_relay_opened_total', 'counter', 'Relay tunnels opened.');
  lines.push(`huddle_relay_opened_total ${counters.opened}`);
  family('huddle_relay_frames_total', 'counter', 'Datagrams forwarded, by direction.');
  lines.push(`huddle_relay_frames_total{direction="to_game"} ${counters.toGame.frames}`);
  lines.push(`huddle_relay_frames_total{direction="to_client"} ${counters.toClient.frames}`);
  family('huddle_relay_bytes_total', 'counter', 'Datagram bytes forwarded, by direction.');
  lines.push(`huddle_relay_bytes_total{direction="to_game"} ${counters.toGame.bytes}`);
  lines.push(`huddle_relay_bytes_total{direction="to_client"} ${counters.toClient.bytes}`);
  family('huddle_relay_dropped_total', 'counter', 'Frames or datagrams the relay dropped, by reason.');
  for (const reason of DROP_REASONS) lines.push(`huddle_relay_dropped_total{reason="${reason}"} ${counters.drops[reason]}`);
  family('huddle_relay_closed_total', 'counter', 'Relay tunnels closed, by reason.');
  for (const reason of CLOSE_REASONS) lines.push(`huddle_relay_closed_total{reason="${reason}"} ${counters.closes[reason]}`);
  family('huddle_relay_refused_total', 'counter', 'Relay connections refused before a tunnel opened, by reason.');
  for (const reason of REFUSAL_REASONS) lines.push(`huddle_relay_refused_total{reason="${reason}"} ${counters.refused[reason]}`);
  return `${lines.join('\n')}\n`;
}
