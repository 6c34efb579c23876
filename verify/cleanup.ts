/**
 * Everything verify:live creates is registered here the moment it exists (or just before it is
 * asked for, when a failure could leave it half-made), with the step that removes it. The steps
 * run newest first, each once, whatever happens: at the end of the run (in `finally`), after a
 * probe fails, and on SIGINT/SIGTERM. A step that fails is reported and the others still run.
 */
export interface CleanupResult {
  label: string;
  ok: boolean;
  error?: string;
}

interface Step {
  label: string;
  run: () => Promise<void> | void;
}

export class CleanupRegistry {
  private readonly steps: Step[] = [];
  private readonly results: CleanupResult[] = [];
  private running?: Promise<CleanupResult[]>;

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  /** Registers a removal step; the returned function drops it (the resource is already gone). */
  add(label: string, run: () => Promise<void> | void): () => void {
    const step = { label, run };
    this.steps.push(step);
    return () => {
      const at = this.steps.indexOf(step);
      if (at >= 0) this.steps.splice(at, 1);
    };
  }

  get pending(): string[] {
    return this.steps.map((step) => step.label);
  }

  /** Runs every registered step, newest first. Calls during a run wait for the same run; later steps registered then also run. */
  runAll(): Promise<CleanupResult[]> {
    this.running ??= (async () => {
      try {
        while (this.steps.length > 0) {
          const step = this.steps.pop()!;
          try {
            await step.run();
            this.results.push({ label: step.label, ok: true });
            this.log(`cleanup: removed ${step.label}`);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            this.results.push({ label: step.label, ok: false, error: message });
            this.log(`cleanup: FAILED to remove ${step.label}: ${message}`);
          }
        }
        return [...this.results];
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /**
   * On SIGINT or SIGTERM: `interrupt()` (stop the probes), then every cleanup step, then exit
   * with 130 / 143. A second signal while cleaning up is ignored (with a note), so a user who
   * presses Ctrl+C twice does not leave resources behind. Returns a function that uninstalls.
   */
  onSignals(
    interrupt: (signal: NodeJS.Signals) => void,
    exit: (code: number) => void = (code) => process.exit(code),
  ): () => void {
    let caught: NodeJS.Signals | undefined;
    const handler = (signal: NodeJS.Signals) => {
      if (caught) {
        this.log(`(${signal} again: still removing what this run created; please wait)`);
        return;
      }
      caught = signal;
      this.log(`${signal}: stopping the probes and removing everything this run created...`);
      interrupt(signal);
      void this.runAll().then((results) => {
        const failed = results.filter((result) => !result.ok);
        if (failed.length > 0)
          this.log(`cleanup left ${failed.length} item(s) behind: ${failed.map((f) => f.label).join(', ')}`);
        exit(signal === 'SIGINT' ? 130 : 143);
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  }
}
