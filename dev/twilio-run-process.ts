import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT, TWILIO_RUN_BIN } from './paths';

export interface TwilioRunProcess {
  child: ChildProcess;
  /** Resolves with twilio-run's exit code (1 when a signal ended it) once it is gone. */
  exited: Promise<number>;
  /** Last lines twilio-run printed (only collected with output 'pipe'). */
  recentOutput(): string;
  /** Stops twilio-run and every function process it forked; resolves once it has exited. */
  stop(): Promise<void>;
}

const MAX_KEPT_LINES = 200;

export interface SpawnTwilioRunOptions {
  /** 'inherit' shows twilio-run's output; 'pipe' keeps its last lines for error messages. */
  output: 'inherit' | 'pipe';
  /**
   * Runs in the terminal's foreground with stdin (deploy may ask questions); the terminal's
   * Ctrl+C reaches it directly. Otherwise it runs in its own process group.
   */
  interactive?: boolean;
}

/**
 * Runs `twilio-run <args>` from the project root (where .twilioserverlessrc and package.json are).
 * Non-interactive runs get their own process group, so stop() also ends the per-request function
 * processes that `twilio-run start` forks.
 */
export function spawnTwilioRun(args: string[], options: SpawnTwilioRunOptions): TwilioRunProcess {
  const { output, interactive = false } = options;
  const child = spawn(process.execPath, [TWILIO_RUN_BIN, ...args], {
    cwd: PROJECT_ROOT,
    detached: !interactive,
    stdio: interactive
      ? 'inherit'
      : output === 'inherit'
        ? ['ignore', 'inherit', 'inherit']
        : ['ignore', 'pipe', 'pipe'],
    env: output === 'pipe' ? { ...process.env, FORCE_COLOR: '0' } : process.env,
  });

  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== ''),
    );
    if (lines.length > MAX_KEPT_LINES) lines.splice(0, lines.length - MAX_KEPT_LINES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code) => resolve(code ?? 1));
    child.once('error', () => resolve(1));
  });

  // Last resort if the parent exits without calling stop(): never leave a server behind.
  const kill = (signal: NodeJS.Signals) => (interactive ? signalProcess(child, signal) : signalGroup(child, signal));
  const killOnExit = () => kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      kill('SIGKILL'); // forked function processes still running, if any
    })();
    return stopping;
  };

  return { child, exited, recentOutput: () => lines.join('\n'), stop };
}

/** Sends a signal to the whole process group led by child (ignores a group already gone). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already exited
  }
}

function signalProcess(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
}
