/**
 * A memory budget in bytes that never makes anyone wait: `tryAcquire` either takes the bytes at once or
 * says no, so a caller over the budget answers "retry later" (503 + Retry-After, gRPC UNAVAILABLE) instead
 * of queueing on memory it does not have. The receivers hold a lease for each request from its first body
 * byte until it is answered (body read, decoded request waiting in the bus, batch being written); the
 * Kafka producer holds one for the bytes Kafka has not acknowledged yet.
 */
export class ByteBudget {
  private used = 0;

  constructor(
    /**
     * Bytes that may be held at once. When nothing is held, one lease may take more: a request larger
     * than the whole budget is served alone rather than refused (as retryable) forever.
     */
    readonly limit: number,
    /** Told the new total whenever it changes (a metrics gauge). */
    private readonly onChange?: (used: number) => void,
  ) {}

  get inUse(): number {
    return this.used;
  }

  /** A lease of `bytes`, or null when that would pass the limit. */
  tryAcquire(bytes: number): BudgetLease | null {
    const lease = new BudgetLease(this);
    return lease.grow(bytes) ? lease : null;
  }

  /** @internal called by leases only. */
  take(bytes: number): boolean {
    if (bytes > 0 && this.used > 0 && this.used + bytes > this.limit) return false;
    this.used += bytes;
    this.onChange?.(this.used);
    return true;
  }
}

/** Bytes held against a budget; `release()` is idempotent, so every exit path may call it. */
export class BudgetLease {
  private held = 0;
  private released = false;

  constructor(private readonly budget: ByteBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Holds `bytes` more if the budget has them; false (and nothing changed) if not. */
  grow(bytes: number): boolean {
    if (this.released) return false;
    if (!this.budget.take(bytes)) return false;
    this.held += bytes;
    return true;
  }

  /** Holds exactly `bytes` from now on; false (and nothing changed) if growing would pass the limit. */
  resize(bytes: number): boolean {
    if (this.released) return false;
    const delta = bytes - this.held;
    if (delta > 0) return this.grow(delta);
    this.budget.take(delta);
    this.held = bytes;
    return true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.take(-this.held);
    this.held = 0;
  }
}
