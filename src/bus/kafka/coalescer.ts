/** What one partition's batch contributes to a write, and what the write must commit for it. */
export interface Part<T> {
  /** Spans plus log records in it. */
  items: number;
  /** The message bytes it was decoded from. */
  bytes: number;
  value: T;
}

export interface CoalescerBounds {
  /** A write holds parts of at most this many items in total (a single larger part goes alone). */
  maxItems: number;
  /** …and of at most this many bytes. */
  maxBytes: number;
}

/** Runs `fn` once the calls already under way have had their turn (setImmediate; tests step it by hand). */
export type Defer = (fn: () => void) => void;

interface Waiting<T> {
  part: Part<T>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit across partitions: the writer's consumer hands every partition's batch of a fetch to
 * `submit` at the same time, and they go to the store as one write instead of one each (each write
 * costs the embedded engine several statements whatever its size). Writes run one at a time: parts
 * submitted while one runs join the next, up to the bounds, so writes grow with the backlog. A part is
 * settled only when the write holding it is durable (or failed): the caller resolves and commits its
 * offsets after that, never before, so nothing is committed that is not stored.
 */
export class Coalescer<T> {
  private pending: Waiting<T>[] = [];
  private running = false;
  private scheduled = false;

  constructor(
    /** Writes the parts as one batch; resolves when it is durable (commits included). */
    private readonly write: (parts: readonly Part<T>[]) => Promise<void>,
    private readonly bounds: CoalescerBounds,
    private readonly defer: Defer = setImmediate,
  ) {}

  /** Parts waiting for a write (not the one running). */
  get waiting(): number {
    return this.pending.length;
  }

  /** Resolves once `part` is in a write that completed; rejects with that write's error. */
  submit(part: Part<T>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ part, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.scheduled || this.pending.length === 0) return;
    // Not at once: the other partitions' batches of the same fetch are being submitted in this turn.
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      void this.next();
    });
  }

  /**
   * Takes the oldest part and every later one that still fits the bounds (first fit: a partition's small
   * remainder joins a write another partition's large part would not fit into), writes them, then the
   * next write if any. A partition has one part pending at a time, so skipping never reorders one.
   */
  private async next(): Promise<void> {
    if (this.running || this.pending.length === 0) return;
    this.running = true;
    let items = 0;
    let bytes = 0;
    const taken: Waiting<T>[] = [];
    const left: Waiting<T>[] = [];
    for (const w of this.pending) {
      const fits = items + w.part.items <= this.bounds.maxItems && bytes + w.part.bytes <= this.bounds.maxBytes;
      if (taken.length > 0 && !fits) {
        left.push(w);
        continue;
      }
      items += w.part.items;
      bytes += w.part.bytes;
      taken.push(w);
    }
    this.pending = left;
    try {
      await this.write(taken.map((w) => w.part));
      for (const w of taken) w.resolve();
    } catch (err) {
      for (const w of taken) w.reject(err);
    } finally {
      this.running = false;
      this.kick();
    }
  }
}
