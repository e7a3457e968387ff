/**
 * Short wrapping ids for rocks and bullets: they cost few bits on the wire, and skipping the ones still in use
 * keeps them unique among live entities however long a round runs.
 */
export class IdPool {
  private next = 0;

  constructor(readonly space: number) {}

  /** A caller keeps live entities far below `space`, so the scan ends. */
  take(live: readonly { id: number }[]): number {
    // Ids are handed out in order, so the cursor's id is almost always free: a scan of the live list per try
    // costs less than building a set of them for every shot.
    let id = this.next;
    while (inUse(live, id)) id = (id + 1) % this.space;
    this.next = (id + 1) % this.space;
    return id;
  }

  get cursor(): number {
    return this.next;
  }
}

function inUse(live: readonly { id: number }[], id: number): boolean {
  for (let i = 0; i < live.length; i++) if (live[i]!.id === id) return true;
  return false;
}
