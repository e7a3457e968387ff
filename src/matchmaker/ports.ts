/**
 * The UDP ports game workers may bind. A port goes back to the pool only when its worker has closed (the launcher's
 * `exit` event), never earlier: until then the old socket may still hold it.
 */
export class PortPool {
  private readonly free = new Set<number>();
  /** Ports held by games adopted after a restart that lie outside today's range: given back to nobody. */
  private readonly outside = new Set<number>();
  private cursor: number;

  constructor(
    readonly first: number,
    readonly last: number,
  ) {
    if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 1 && last <= 65535 && first <= last)) {
      throw new RangeError(`bad port range ${first}-${last}`);
    }
    for (let p = first; p <= last; p++) this.free.add(p);
    this.cursor = first;
  }

  get size(): number {
    return this.last - this.first + 1;
  }

  get available(): number {
    return this.free.size;
  }

  /**
   * Takes a free port, or undefined if none. Goes round the range rather than always taking the lowest, so a port
   * just released is the last to be reused (stray datagrams for the old game meet nobody).
   */
  take(): number | undefined {
    for (let i = 0; i < this.size; i++) {
      const port = this.cursor;
      this.cursor = port === this.last ? this.first : port + 1;
      if (this.free.delete(port)) return port;
    }
    return undefined;
  }

  /**
   * Takes this very port: a game adopted after a restart still holds it. A port outside the range (the range
   * changed between starts) is held too, and forgotten on release. False if a game holds it already.
   */
  claim(port: number): boolean {
    if (port >= this.first && port <= this.last) return this.free.delete(port);
    if (this.outside.has(port)) return false;
    this.outside.add(port);
    return true;
  }

  /** Returns a port; false if it was not taken (a double free, which the caller treats as a bug). */
  release(port: number): boolean {
    if (this.outside.delete(port)) return true;
    if (port < this.first || port > this.last || this.free.has(port)) return false;
    this.free.add(port);
    return true;
  }
}
