/** Copies between caller buffers and a wasm backend's heap (sodium.ts, simd.ts), the cheapest way for each size. */

// Up to this size a byte loop beats TypedArray.set plus the subarray view it needs (measured with bench/aead.ts:
// +15% pairs/s at 64 B, +6% at 1000 B, mostly from the key, nonce, AAD and tag copies).
const SMALL_COPY = 64;

export function copyIn(src: Uint8Array, srcStart: number, length: number, heap: Uint8Array, dst: number): void {
  if (length <= SMALL_COPY) {
    for (let i = 0; i < length; i++) heap[dst + i] = src[srcStart + i]!;
  } else {
    heap.set(srcStart === 0 && length === src.length ? src : src.subarray(srcStart, srcStart + length), dst);
  }
}

export function copyOut(heap: Uint8Array, src: number, length: number, out: Uint8Array, dst: number): void {
  if (length <= SMALL_COPY) {
    for (let i = 0; i < length; i++) out[dst + i] = heap[src + i]!;
  } else {
    out.set(heap.subarray(src, src + length), dst);
  }
}
