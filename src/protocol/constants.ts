/**
 * huddle's netcode protocol id: "HUDDLE" + 0x00 + wire revision, read as a little-endian u64.
 * Bump the last byte when game messages or the reliability layer's packets change incompatibly, so old clients
 * are refused at the handshake instead of connecting and then failing on every packet. Revision 2: the
 * reliability header carries the ack delay (docs/RELIABILITY.md, wire format 2).
 */
export const HUDDLE_PROTOCOL_ID = 0x02_00_45_4c_44_44_55_48n;
