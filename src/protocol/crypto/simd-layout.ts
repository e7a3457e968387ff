/**
 * The SIMD module's memory, as both its generator (simd.generator.ts) and its caller (simd.ts) use it: one 64 KiB
 * page at the start, the module's own state below IO_START and the caller's buffers after it (simd.ts grows the
 * memory for long inputs).
 *   STATE  0   the ChaCha20 input block (16 words; the counter word is set per pass)
 *   KS     64  four blocks of key stream
 *   POLYK  320 the Poly1305 key (block 0's first 32 bytes)
 *   PAD    352 one zero-padded Poly1305 block (a partial tail, or the two lengths)
 *   MAC    368 the computed tag
 */
export const LAYOUT = { STATE: 0, KS: 64, POLYK: 320, PAD: 352, MAC: 368, IO_START: 1024 } as const;
