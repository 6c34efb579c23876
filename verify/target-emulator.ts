/**
 * The offline target: the local stack (twilio-run serving the built service plus the probe
 * endpoint, and the Twilio emulator), or one already running (`--base-url`, `--emulator-url`).
 * A call is the flow runner (studio/runner) playing the probe's flow, which is first created in
 * the emulator through the Studio API like on Twilio; the runner plays the same behaviour profile
 * as the emulator (read from `GET /_emulator/behaviour`).
 */
import { newSid } from '../emulator/sids';
import { profileFromJson, type TwilioBehaviour } from '../emulator/twilio-behaviour';
import { listServiceFunctions, functionSidPlaceholder } from '../studio/checker/service-functions';
import { runFlow } from '../studio/runner';
import { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../dev/credentials';
import { startLocalStack } from '../dev/local-stack';
import { FUNCTIONS_SRC_DIR } from '../dev/paths';
import type { CleanupRegistry } from './cleanup';
import { verifyClient, type VerifyClient } from './client';
import { prepareStage } from './stage';
import { createProbeFlow, runPrefixes, type Target, type Timings } from './target';

export const EMULATOR_TIMINGS: Timings = {
  timeLimitSeconds: 3,
  redirectTimeoutSeconds: 3,
  settleMs: 3_000,
  answerMs: 10_000,
  ttlSeconds: 2,
  ttlWatchMs: 6_000,
};

export interface EmulatorTargetOptions {
  runId: string;
  probeKey: string;
  cleanup: CleanupRegistry;
  log: (line: string) => void;
  /** The profile the emulator starts with when this target starts the stack. */
  behaviour?: TwilioBehaviour;
  /** A stack already running (its functions must have VERIFY_KEY = probeKey and serve /verify/probe). */
  existing?: { baseUrl: string; emulatorUrl: string };
}

/** The local stack this target starts (removed at cleanup), or the one already running. */
async function localStack(options: EmulatorTargetOptions): Promise<{ baseUrl: string; emulatorUrl: string }> {
  if (options.existing) return options.existing;
  const { cleanup } = options;
  const stage = prepareStage(options.runId);
  cleanup.add('the staged build (verify/.stage-*)', () => stage.remove());
  const stack = await startLocalStack({
    distDir: stage.distDirRelative,
    behaviour: options.behaviour,
    env: { VERIFY_KEY: options.probeKey },
  });
  cleanup.add('the local stack (twilio-run and the emulator)', () => stack.stop());
  return { baseUrl: stack.baseUrl, emulatorUrl: stack.emulator.url };
}

/** The shipped flows' placeholders filled for a rehearsal: a stand-in domain, fresh SIDs of the right shapes. */
async function rehearsalFillValues(): Promise<Record<string, string>> {
  const values: Record<string, string> = {
    SERVICE_DOMAIN: 'verify-rehearsal.twil.io',
    SERVICE_SID: newSid('ZS'),
    ENVIRONMENT_SID: newSid('ZE'),
  };
  for (const functionPath of listServiceFunctions(FUNCTIONS_SRC_DIR) ?? [])
    values[functionSidPlaceholder(functionPath).slice(2, -2)] = newSid('ZH');
  return values;
}

interface RunnerSetup {
  client: VerifyClient;
  runId: string;
  baseUrl: string;
  emulatorUrl: string;
  behaviour: TwilioBehaviour;
  /** The runner's calls in flight (interrupt() aborts them). */
  runs: Set<AbortController>;
}

/** A probe's call: its flow created in the emulator, then played by the flow runner; both removed at cleanup. */
function runnerCalls(setup: RunnerSetup): Target['callIntoFlow'] {
  const { client, runId, runs } = setup;
  return async (scope, probe, definition, callOptions = {}) => {
    const flow = await createProbeFlow(client, scope, runId, probe, definition);
    const callSid = newSid('CA');
    const abort = new AbortController();
    runs.add(abort);
    const run = runFlow({
      definition,
      baseUrl: setup.baseUrl,
      emulatorUrl: setup.emulatorUrl,
      trigger: { kind: 'call', callSid },
      flowSid: flow.sid,
      behaviour: setup.behaviour,
      fallbackUrl: callOptions.fallbackUrl,
      maxRunMs: 5 * 60_000,
      signal: abort.signal,
    });
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    scope.add(`the runner's call for ${probe}`, async () => {
      abort.abort();
      await done;
      runs.delete(abort);
    });
    return { callSid, done };
  };
}

export async function emulatorTarget(options: EmulatorTargetOptions): Promise<Target> {
  const { log, runId } = options;
  const { baseUrl, emulatorUrl } = await localStack(options);
  const client = verifyClient(LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN, emulatorUrl);
  const played = (await (await fetch(`${emulatorUrl}/_emulator/behaviour`)).json()) as unknown;
  const behaviour = profileFromJson(played, 'the emulator');
  log(`emulator at ${emulatorUrl} plays profile ${behaviour.name}; functions at ${baseUrl}`);
  const runs = new Set<AbortController>();

  return {
    kind: 'emulator',
    client,
    accountSid: LOCAL_ACCOUNT_SID,
    probeEndpoint: `${baseUrl}/verify/probe`,
    probeKey: options.probeKey,
    runId,
    ...runPrefixes(runId),
    timings: EMULATOR_TIMINGS,
    pollMs: 200,
    log,
    emulatorBehaviour: behaviour.name,
    // The runner's default numbers: the emulator takes any.
    numbers: { from: '+15005550001', to: '+15005550006' },
    fillValues: rehearsalFillValues,
    callIntoFlow: runnerCalls({ client, runId, baseUrl, emulatorUrl, behaviour, runs }),
    interrupt() {
      for (const run of runs) run.abort();
    },
  };
}
