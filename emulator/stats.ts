/** Counts Twilio API requests by operation name (`sync.documents.update`, ...) plus `total`. */
export class RequestStats {
  private counts = new Map<string, number>();

  count(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    let total = 0;
    for (const [name, n] of [...this.counts].sort(([a], [b]) => a.localeCompare(b))) {
      out[name] = n;
      total += n;
    }
    out.total = total;
    return out;
  }

  reset(): void {
    this.counts.clear();
  }
}
