/**
 * The real account: the service plus the probe endpoint deployed by the project's deploy code
 * (dev/deploy/run.ts runDeploy, preflight included) to a throwaway Serverless service of its
 * own; each voice probe creates a Studio Flow and places a call from `--from` to `--to` whose
 * TwiML URL is that flow's webhook (so the flow runs as for a call coming in).
 *
 * Nothing is changed on a phone number unless `--configure-number` is given: then the `--to`
 * number (on this account) answers with the probe endpoint (a silent wait) and its previous voice
 * settings are put back at cleanup.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { functionSidPlaceholder } from '../studio/checker/service-functions';
import { runDeploy } from '../dev/deploy/run';
import { writeEnvFile } from '../dev/env-file';
import type { CleanupRegistry } from './cleanup';
import { verifyClient, type VerifyClient } from './client';
import { prepareStage } from './stage';
import { createProbeFlow, probeUrl, runPrefixes, type Target, type Timings } from './target';

export const LIVE_TIMINGS: Timings = {
  timeLimitSeconds: 20,
  redirectTimeoutSeconds: 30,
  settleMs: 15_000,
  answerMs: 60_000,
  ttlSeconds: 5,
  ttlWatchMs: 90_000,
};

const ENVIRONMENT = 'verify';
const FINAL = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);
/** How often a placed call is looked at to know when it is over. */
const CALL_POLL_MS = 3000;

export interface LiveTargetOptions {
  runId: string;
  probeKey: string;
  serviceName: string;
  accountSid: string;
  authToken: string;
  /** Only to rehearse the live target's REST calls somewhere else; normally unset. */
  apiBaseUrl?: string;
  from?: string;
  to?: string;
  configureNumber: boolean;
  cleanup: CleanupRegistry;
  log: (line: string) => void;
}

async function findService(client: VerifyClient, uniqueName: string) {
  return (await client.serverless.v1.services.list({ pageSize: 100 })).find(
    (service) => service.uniqueName === uniqueName,
  );
}

async function deploy(options: LiveTargetOptions, client: VerifyClient) {
  const { cleanup, log, serviceName } = options;
  const stage = prepareStage(options.runId);
  cleanup.add('the staged build (verify/.stage-*)', () => stage.remove());
  const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-verify-'));
  cleanup.add('the temporary env file', () => fs.rmSync(secretDir, { recursive: true, force: true }));
  const envFile = path.join(secretDir, '.env');
  writeEnvFile(envFile, {
    ACCOUNT_SID: options.accountSid,
    AUTH_TOKEN: options.authToken,
    VERIFY_KEY: options.probeKey,
    WEBHOOK_SECRET: crypto.randomBytes(24).toString('base64url'),
    JOB_ID_SECRET: crypto.randomBytes(24).toString('base64url'),
  });
  // Registered before the deploy starts: an interrupted deploy may have created the service already.
  cleanup.add(`Serverless service ${serviceName}`, async () => {
    const service = await findService(client, serviceName);
    if (service) await client.serverless.v1.services(service.sid).remove();
  });
  log(`deploying to Serverless service ${serviceName} (environment ${ENVIRONMENT})...`);
  const code = await runDeploy({
    rehearse: false,
    projectDir: stage.dir,
    twilioRunArgs: ['--service-name', serviceName, '--environment', ENVIRONMENT, '--env', envFile],
    out: log,
    err: log,
  });
  if (code !== 0) throw new Error(`the deploy failed (twilio-run exit ${code}); see its output above`);
  const service = await findService(client, serviceName);
  if (!service) throw new Error(`the deploy reported success but no service ${serviceName} exists`);
  const environment = (await client.serverless.v1.services(service.sid).environments.list()).find(
    (e) => e.uniqueName === ENVIRONMENT || e.domainSuffix === ENVIRONMENT,
  );
  if (!environment) throw new Error(`service ${serviceName} has no environment ${ENVIRONMENT}`);
  return { serviceSid: service.sid, environmentSid: environment.sid, domain: environment.domainName };
}

/** `--configure-number`: the `--to` number, checked to be on this account before anything is deployed. */
async function numberToConfigure(options: LiveTargetOptions, client: VerifyClient): Promise<string | undefined> {
  if (!options.configureNumber) return undefined;
  if (!options.to) throw new Error('--configure-number needs --to (a number on this account)');
  const [number] = await client.incomingPhoneNumbers.list({ phoneNumber: options.to, limit: 1 });
  if (!number) throw new Error('--configure-number: the --to number is not on this account; nothing was changed');
  return number.sid;
}

/** Points the number's voice URL at the probe endpoint; its previous voice settings are put back at cleanup. */
async function answerWithProbe(
  options: LiveTargetOptions,
  client: VerifyClient,
  numberSid: string,
  base: Pick<Target, 'probeEndpoint' | 'probeKey' | 'runId'>,
): Promise<void> {
  const number = await client.incomingPhoneNumbers(numberSid).fetch();
  const previous = {
    voiceUrl: number.voiceUrl ?? '',
    voiceMethod: number.voiceMethod ?? 'POST',
    voiceFallbackUrl: number.voiceFallbackUrl ?? '',
    voiceFallbackMethod: number.voiceFallbackMethod ?? 'POST',
    voiceApplicationSid: number.voiceApplicationSid ?? '',
  };
  options.cleanup.add("the --to number's voice settings (restored)", async () => {
    await client.incomingPhoneNumbers(numberSid).update(previous);
  });
  await client.incomingPhoneNumbers(numberSid).update({
    voiceUrl: probeUrl(base, { probe: 'answer', step: 'answer' }),
    voiceMethod: 'POST',
    voiceApplicationSid: '',
  });
  options.log('the --to number now answers with the probe endpoint (restored at the end)');
}

type Deployed = Awaited<ReturnType<typeof deploy>>;

/** The shipped flows' placeholders filled with the deployed service: its domain, its SIDs, its functions' SIDs. */
async function deployedFillValues(client: VerifyClient, deployed: Deployed): Promise<Record<string, string>> {
  const values: Record<string, string> = {
    SERVICE_DOMAIN: deployed.domain,
    SERVICE_SID: deployed.serviceSid,
    ENVIRONMENT_SID: deployed.environmentSid,
  };
  const service = client.serverless.v1.services(deployed.serviceSid);
  for (const fn of await service.functions.list()) {
    const [version] = await service.functions(fn.sid).functionVersions.list({ limit: 1 });
    if (version) values[functionSidPlaceholder(version.path).slice(2, -2)] = fn.sid;
  }
  return values;
}

/** Removes a probe's flow, ending first its executions still active (one lingers until its widget times out, S6). */
async function removeFlow(client: VerifyClient, flowSid: string): Promise<void> {
  const flow = client.studio.v2.flows(flowSid);
  for (const execution of await flow.executions.list({ limit: 20 })) {
    if (execution.status === 'active')
      await flow
        .executions(execution.sid)
        .update({ status: 'ended' })
        .catch(() => undefined);
  }
  await flow.remove();
}

/** Resolves once the call is over (or can no longer be fetched). */
async function callOver(client: VerifyClient, callSid: string): Promise<void> {
  for (;;) {
    const now = await client
      .calls(callSid)
      .fetch()
      .catch(() => undefined);
    if (!now || FINAL.has(now.status)) return;
    await sleep(CALL_POLL_MS);
  }
}

/** A probe's call: a Studio Flow created for it, and a call from --from to --to whose TwiML URL is its webhook. */
function accountCalls(options: LiveTargetOptions, client: VerifyClient): Target['callIntoFlow'] {
  return async (scope, probe, definition, callOptions = {}) => {
    if (!options.from || !options.to) throw new Error('no --from/--to');
    const flow = await createProbeFlow(client, scope, options.runId, probe, definition, (flowSid) =>
      removeFlow(client, flowSid),
    );
    const call = await client.calls.create({
      from: options.from,
      to: options.to,
      url: flow.webhookUrl,
      method: 'POST',
      ...(callOptions.fallbackUrl ? { fallbackUrl: callOptions.fallbackUrl, fallbackMethod: 'POST' } : {}),
      timeout: 30,
      timeLimit: 180,
    });
    scope.add(`the call for ${probe}`, async () => {
      const now = await client.calls(call.sid).fetch();
      if (FINAL.has(now.status)) return;
      await client.calls(call.sid).update({ status: now.status === 'in-progress' ? 'completed' : 'canceled' });
    });
    return { callSid: call.sid, done: callOver(client, call.sid) };
  };
}

export async function liveTarget(options: LiveTargetOptions): Promise<Target & { domain: string }> {
  const { log, runId } = options;
  const client = verifyClient(options.accountSid, options.authToken, options.apiBaseUrl);
  const configure = await numberToConfigure(options, client);
  const deployed = await deploy(options, client);
  const probeEndpoint = `https://${deployed.domain}/verify/probe`;
  const base = { probeEndpoint, probeKey: options.probeKey, runId };
  if (configure) await answerWithProbe(options, client, configure, base);

  const voiceUnavailable =
    !options.from || !options.to
      ? 'needs --from (a number on this account that can call) and --to (a number that answers)'
      : undefined;

  return {
    kind: 'twilio',
    client,
    accountSid: options.accountSid,
    ...base,
    ...runPrefixes(runId),
    timings: LIVE_TIMINGS,
    pollMs: 1500,
    log,
    voiceUnavailable,
    ...(options.from && options.to ? { numbers: { from: options.from, to: options.to } } : {}),
    domain: deployed.domain,
    fillValues: () => deployedFillValues(client, deployed),
    callIntoFlow: accountCalls(options, client),
    interrupt() {
      // Nothing runs here but REST calls; the cleanup ends calls and removes flows.
    },
  };
}
