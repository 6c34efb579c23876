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
import { functionSidPlaceholder } from '../studio/checker/service-functions';
import { runDeploy } from '../dev/deploy/run';
import { writeEnvFile } from '../dev/env-file';
import type { CleanupRegistry } from './cleanup';
import { verifyClient, type VerifyClient } from './client';
import { prepareStage } from './stage';
import { probeUrl, type Target, type Timings } from './target';

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

export async function liveTarget(options: LiveTargetOptions): Promise<Target & { domain: string }> {
  const { cleanup, log, runId } = options;
  const client = verifyClient(options.accountSid, options.authToken, options.apiBaseUrl);

  let configureCheck: { sid: string } | undefined;
  if (options.configureNumber) {
    if (!options.to) throw new Error('--configure-number needs --to (a number on this account)');
    const [number] = await client.incomingPhoneNumbers.list({ phoneNumber: options.to, limit: 1 });
    if (!number) throw new Error('--configure-number: the --to number is not on this account; nothing was changed');
    configureCheck = { sid: number.sid };
  }

  const deployed = await deploy(options, client);
  const probeEndpoint = `https://${deployed.domain}/verify/probe`;
  const base = { probeEndpoint, probeKey: options.probeKey, runId };

  if (configureCheck) {
    const number = await client.incomingPhoneNumbers(configureCheck.sid).fetch();
    const previous = {
      voiceUrl: number.voiceUrl ?? '',
      voiceMethod: number.voiceMethod ?? 'POST',
      voiceFallbackUrl: number.voiceFallbackUrl ?? '',
      voiceFallbackMethod: number.voiceFallbackMethod ?? 'POST',
      voiceApplicationSid: number.voiceApplicationSid ?? '',
    };
    cleanup.add("the --to number's voice settings (restored)", async () => {
      await client.incomingPhoneNumbers(configureCheck.sid).update(previous);
    });
    await client.incomingPhoneNumbers(configureCheck.sid).update({
      voiceUrl: probeUrl(base, { probe: 'answer', step: 'answer' }),
      voiceMethod: 'POST',
      voiceApplicationSid: '',
    });
    log('the --to number now answers with the probe endpoint (restored at the end)');
  }

  const voiceUnavailable =
    !options.from || !options.to
      ? 'needs --from (a number on this account that can call) and --to (a number that answers)'
      : undefined;

  return {
    kind: 'twilio',
    client,
    accountSid: options.accountSid,
    ...base,
    syncPrefix: `vfy_${runId}_`,
    namePrefix: `verify-${runId}-`,
    timings: LIVE_TIMINGS,
    pollMs: 1500,
    log,
    voiceUnavailable,
    ...(options.from && options.to ? { numbers: { from: options.from, to: options.to } } : {}),
    domain: deployed.domain,
    async fillValues() {
      const values: Record<string, string> = {
        SERVICE_DOMAIN: deployed.domain,
        SERVICE_SID: deployed.serviceSid,
        ENVIRONMENT_SID: deployed.environmentSid,
      };
      const functions = await client.serverless.v1.services(deployed.serviceSid).functions.list();
      for (const fn of functions) {
        const [version] = await client.serverless.v1
          .services(deployed.serviceSid)
          .functions(fn.sid)
          .functionVersions.list({ limit: 1 });
        if (version) values[functionSidPlaceholder(version.path).slice(2, -2)] = fn.sid;
      }
      return values;
    },
    async callIntoFlow(scope, probe, definition, callOptions = {}) {
      if (!options.from || !options.to) throw new Error('no --from/--to');
      const flow = await client.studio.v2.flows.create({
        friendlyName: `verify-${runId} ${probe}`,
        status: 'published',
        definition,
      });
      scope.add(`Studio Flow for ${probe}`, async () => {
        // An execution lingers until its widget times out (S6): end it, then delete the flow.
        for (const execution of await client.studio.v2.flows(flow.sid).executions.list({ limit: 20 })) {
          if (execution.status === 'active')
            await client.studio.v2
              .flows(flow.sid)
              .executions(execution.sid)
              .update({ status: 'ended' })
              .catch(() => undefined);
        }
        await client.studio.v2.flows(flow.sid).remove();
      });
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
      const done = (async () => {
        for (;;) {
          const now = await client
            .calls(call.sid)
            .fetch()
            .catch(() => undefined);
          if (!now || FINAL.has(now.status)) return;
          await new Promise((resolve) => setTimeout(resolve, 3000));
        }
      })();
      return { callSid: call.sid, done };
    },
    interrupt() {
      // Nothing runs here but REST calls; the cleanup ends calls and removes flows.
    },
  };
}
