/**
 * Per-address packet keys on the server (the reference's "encryption manager").
 *
 * A mapping is made when a connection request is answered with a challenge, so that the client's response can
 * be decrypted before the client has a slot. It expires when the address is silent for the token's timeout, or
 * at the token's expiry while the client is still unconnected; once the client is connected the expiry is
 * lifted and only the timeout applies. The table is bounded (the reference uses 4 per client slot) so that
 * requests with valid tokens from many addresses cannot grow it without limit.
 */
export interface EncryptionMapping {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  lastAccessTime: number;
  /** Seconds (same clock as `now`); a negative value means no expiry. */
  expireTime: number;
  /** Seconds of silence after which the mapping dies; zero or negative means never. */
  timeoutSeconds: number;
  clientIndex: number;
}

export class EncryptionMappings {
  private readonly byAddress = new Map<string, EncryptionMapping>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.byAddress.size;
  }

  /**
   * Adds or refreshes the mapping for an address. Returns false when the table is full of live mappings,
   * in which case the request is ignored (as the reference does).
   */
  add(addressKey: string, sendKey: Uint8Array, receiveKey: Uint8Array, now: number, expireTime: number, timeoutSeconds: number): boolean {
    const existing = this.byAddress.get(addressKey);
    if (existing && !isExpired(existing, now)) {
      this.byAddress.set(addressKey, { ...existing, sendKey, receiveKey, lastAccessTime: now, expireTime, timeoutSeconds });
      return true;
    }
    if (existing) this.byAddress.delete(addressKey);
    if (this.byAddress.size >= this.capacity) {
      this.purgeExpired(now);
      if (this.byAddress.size >= this.capacity) return false;
    }
    this.byAddress.set(addressKey, { sendKey, receiveKey, lastAccessTime: now, expireTime, timeoutSeconds, clientIndex: -1 });
    return true;
  }

  /** The live mapping for an address, touched so that traffic keeps it alive; expired ones are dropped. */
  find(addressKey: string, now: number): EncryptionMapping | undefined {
    const mapping = this.byAddress.get(addressKey);
    if (!mapping) return undefined;
    if (isExpired(mapping, now)) {
      this.byAddress.delete(addressKey);
      return undefined;
    }
    mapping.lastAccessTime = now;
    return mapping;
  }

  remove(addressKey: string): void {
    this.byAddress.delete(addressKey);
  }

  purgeExpired(now: number): void {
    for (const [key, mapping] of this.byAddress) {
      if (isExpired(mapping, now)) this.byAddress.delete(key);
    }
  }

  clear(): void {
    this.byAddress.clear();
  }
}

function isExpired(mapping: EncryptionMapping, now: number): boolean {
  if (mapping.timeoutSeconds > 0 && mapping.lastAccessTime + mapping.timeoutSeconds < now) return true;
  return mapping.expireTime >= 0 && mapping.expireTime < now;
}
