/**
 * Short wrapping ids for rocks and bullets: they cost few bits on the wire, and skipping the ones still in use
 * keeps them unique among live entities however long a round runs.
 */
export class IdPool {
  private next = 0;

  constructor(readonly space: number) {}

  /** A caller keeps live entities far below `space`, so the scan ends. */
  take(live: readonly { id: number }[]): number {
    const used = new Set(live.map((e) => e.id));
    let id = this.next;
    while (used.has(id)) id = (id + 1) % this.space;
    this.next = (id + 1) % this.space;
    return id;
  }

  get cursor(): number {
    return this.next;
  }
}
