/**
 * huddle's netcode protocol id: "HUDDLE" + 0x00 + wire revision 1, read as a little-endian u64.
 * Bump the last byte when game messages change incompatibly, so old clients are ignored instead of misread.
 */
export const HUDDLE_PROTOCOL_ID = 0x01_00_45_4c_44_44_55_48n;
