/**
 * Remembers which address first used each connect token, keyed by the token's MAC (the last 16 bytes of its
 * encrypted private part, unique per token). A token replayed from another address is refused, so a sniffed
 * connection request cannot be used to take the owner's place. Bounded like the reference (8 entries per
 * client slot); when full, the oldest entry gives way.
 */
export class TokenHistory {
  private readonly firstUse = new Map<string, { addressKey: string; time: number }>();

  constructor(readonly capacity: number) {}

  /** True if the token may be used from this address (first use, or the same address again). */
  admit(mac: Uint8Array, addressKey: string, now: number): boolean {
    const key = macKey(mac);
    const entry = this.firstUse.get(key);
    if (entry) return entry.addressKey === addressKey;
    if (this.firstUse.size >= this.capacity) this.evictOldest();
    this.firstUse.set(key, { addressKey, time: now });
    return true;
  }

  get size(): number {
    return this.firstUse.size;
  }

  clear(): void {
    this.firstUse.clear();
  }

  private evictOldest(): void {
    // Map iteration follows insertion order and entries are never re-inserted, so the first is the oldest.
    const oldest = this.firstUse.keys().next();
    if (!oldest.done) this.firstUse.delete(oldest.value);
  }
}

function macKey(mac: Uint8Array): string {
  let key = '';
  for (let i = 0; i < mac.length; i++) key += String.fromCharCode(mac[i] as number);
  return key;
}
