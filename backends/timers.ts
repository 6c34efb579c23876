/**
 * A backend's pending work as timers: each may belong to a job (stopped together when the service
 * cancels that job), and all of them stop when the backend closes.
 */
export class BackendTimers {
  private readonly all = new Set<NodeJS.Timeout>();
  private readonly byJob = new Map<string, Set<NodeJS.Timeout>>();

  /** Runs `run` in `ms`, unless the backend closes first (or, with `jobId`, the job is cancelled). */
  later(ms: number, run: () => void, jobId?: string): void {
    const timer = setTimeout(() => {
      this.all.delete(timer);
      if (jobId) this.byJob.get(jobId)?.delete(timer);
      run();
    }, ms);
    this.all.add(timer);
    if (jobId) this.byJob.set(jobId, (this.byJob.get(jobId) ?? new Set()).add(timer));
  }

  /** Resolves in `ms`; never, if the backend closes first (its connections are closed with it). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve));
  }

  /** Stops a job's pending work. */
  cancelJob(jobId: string): void {
    for (const timer of this.byJob.get(jobId) ?? []) {
      clearTimeout(timer);
      this.all.delete(timer);
    }
    this.byJob.delete(jobId);
  }

  clearAll(): void {
    for (const timer of this.all) clearTimeout(timer);
    this.all.clear();
    this.byJob.clear();
  }
}
