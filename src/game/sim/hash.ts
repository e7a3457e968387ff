/** FNV-1a over 32-bit integers: a cheap fingerprint of a world's state for replay tests. */
export class StateHash {
  private h = 0x811c9dc5;

  add(value: number): this {
    let v = value | 0;
    for (let i = 0; i < 4; i++) {
      this.h = Math.imul(this.h ^ (v & 0xff), 0x01000193);
      v >>>= 8;
    }
    return this;
  }

  addString(text: string): this {
    for (let i = 0; i < text.length; i++) this.add(text.charCodeAt(i));
    return this;
  }

  get value(): number {
    return this.h >>> 0;
  }
}
