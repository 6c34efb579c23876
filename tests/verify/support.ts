import crypto from 'node:crypto';
import { startLocalStack, type LocalStack } from '../../dev/local-stack';
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import { main, type CliIo } from '../../verify/cli';
import { prepareStage, type Stage } from '../../verify/stage';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  asked: string[];
}

/** Runs the command in this process with a fake terminal. */
export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const asked: string[] = [];
  const code = await main({
    argv,
    env: {},
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    isTTY: false,
    exit: () => undefined,
    ...io,
    ...(io.ask
      ? {
          ask: (question: string) => {
            asked.push(question);
            return io.ask!(question);
          },
        }
      : {}),
  });
  return { code, stdout, stderr, asked };
}

/** A local stack serving the build plus the probe endpoint, for runs given --base-url/--emulator-url. */
export async function startProbeStack(
  behaviour?: TwilioBehaviour,
): Promise<{ stack: LocalStack; stage: Stage; key: string; stop(): Promise<void> }> {
  const key = crypto.randomBytes(12).toString('hex');
  const stage = prepareStage(`t${crypto.randomBytes(3).toString('hex')}`);
  const stack = await startLocalStack({ distDir: stage.distDirRelative, behaviour, env: { VERIFY_KEY: key } });
  return {
    stack,
    stage,
    key,
    stop: async () => {
      await stack.stop();
      stage.remove();
    },
  };
}

/** What the run may have left in the emulator: unfinished rooms, its Sync documents, Studio Flows. */
export async function leftovers(
  emulatorUrl: string,
): Promise<{ openRooms: string[]; documents: string[]; flows: number }> {
  const state = (await (await fetch(`${emulatorUrl}/_emulator/state`)).json()) as {
    documents: Array<{ uniqueName: string | null }>;
    conferences: Array<{ friendlyName: string; status: string }>;
  };
  const auth = `Basic ${Buffer.from(`AC${'0'.repeat(32)}:local`).toString('base64')}`;
  const flows = (await (
    await fetch(`${emulatorUrl}/studio/v2/Flows`, { headers: { Authorization: auth } })
  ).json()) as { flows: unknown[] };
  return {
    openRooms: state.conferences.filter((c) => c.status !== 'completed').map((c) => c.friendlyName),
    documents: state.documents.map((d) => d.uniqueName ?? '(unnamed)').filter((name) => name.startsWith('vfy_')),
    flows: flows.flows.length,
  };
}
