/**
 * Bit-level cursors for the snapshot format. The writer works in a fixed buffer (the encoder's entity caps
 * keep every snapshot inside it; running past the end is a bug and throws). The reader never throws: reading
 * past the end returns zeros and marks it `failed`, and every variable-length code has a hard bit limit, so
 * garbage cannot make a decoder loop or allocate without bound.
 */
export class BitWriter {
  private readonly bytes: Uint8Array;
  private bit = 0;

  constructor(capacityBytes: number) {
    this.bytes = new Uint8Array(capacityBytes);
  }

  get bitLength(): number {
    return this.bit;
  }

  /** `bits` ≤ 32 low bits of a non-negative integer. */
  write(value: number, bits: number): void {
    if (this.bit + bits > this.bytes.length * 8) throw new RangeError('snapshot larger than its buffer');
    for (let i = bits - 1; i >= 0; i--) {
      if (Math.floor(value / 2 ** i) % 2 === 1) this.bytes[this.bit >> 3]! |= 0x80 >> (this.bit & 7);
      this.bit++;
    }
  }

  bool(value: boolean): void {
    this.write(value ? 1 : 0, 1);
  }

  /** Two's complement in `bits`; the caller keeps the value in range. */
  signed(value: number, bits: number): void {
    this.write(value < 0 ? value + 2 ** bits : value, bits);
  }

  /** Exp-Golomb (order 0): 1 bit for 0, 3 for 1–2, 5 for 3–6 … for any 0 ≤ value < 2^31. */
  gamma(value: number): void {
    const plusOne = value + 1;
    const width = bitWidth(plusOne);
    this.write(0, width - 1);
    this.write(plusOne, width);
  }

  /** Zig-zag then Exp-Golomb: small magnitudes of either sign stay short. */
  signedGamma(value: number): void {
    this.gamma(zigzag(value));
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, Math.ceil(this.bit / 8));
  }
}

export class BitReader {
  private bit = 0;
  failed = false;

  constructor(private readonly bytes: Uint8Array) {}

  get bitsLeft(): number {
    return this.bytes.length * 8 - this.bit;
  }

  read(bits: number): number {
    if (bits > this.bitsLeft) {
      this.failed = true;
      this.bit = this.bytes.length * 8;
      return 0;
    }
    let value = 0;
    for (let i = 0; i < bits; i++) {
      value = value * 2 + ((this.bytes[this.bit >> 3]! >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return value;
  }

  bool(): boolean {
    return this.read(1) === 1;
  }

  signed(bits: number): number {
    const raw = this.read(bits);
    return raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
  }

  gamma(): number {
    let zeros = 0;
    while (this.read(1) === 0) {
      if (this.failed || ++zeros > 30) {
        this.failed = true;
        return 0;
      }
    }
    return 2 ** zeros + this.read(zeros) - 1;
  }

  signedGamma(): number {
    const z = this.gamma();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
}

function bitWidth(value: number): number {
  let width = 0;
  while (2 ** width <= value) width++;
  return width;
}

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** The length of `signedGamma(value)`, for choosing between encodings before writing either. */
export function signedGammaBits(value: number): number {
  return 2 * bitWidth(zigzag(value) + 1) - 1;
}
