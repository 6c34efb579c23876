/**
 * The service as deployed, offline: `npm run deploy -- --rehearse` (preflight, build, the real
 * `twilio-run deploy` against the Serverless API stand-in), then the rehearsed domain served by
 * the runtime-handler from the uploaded versions and the declared dependencies only
 * (emulator/serverless/runtime-domain.ts), next to the Twilio emulator. What `npm run call --
 * --deployed` runs a flow against.
 *
 * The stand-in plays the local stack's account (AC000...) with a token made for this run: the
 * emulator signs its status callbacks with it, the flow runner signs its requests with it
 * (STUDIO_RUNNER_AUTH_TOKEN), and the domain refuses a protected function's request without it.
 *
 * The functions get the environment the deploy set (its Variables, the account's credentials,
 * SERVICE_SID, ENVIRONMENT_SID) plus only what running here needs: TWILIO_API_BASE_URL (the
 * emulator) and, for scenarios that use it, the example backend's URL and secret.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { startExampleBackend, type ExampleBackend } from '../../backends/example-backend';
import { serveDeployed, type ServedDomain } from '../../emulator/serverless/runtime-domain';
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import { exampleResult } from '../../studio/runner/local-service';
import { LOCAL_ACCOUNT_SID } from '../credentials';
import { loadStartEmulator, type EmulatorHandle } from '../emulator-loader';
import { PROJECT_ROOT } from '../paths';
import type { RehearsalResult } from './rehearse';
import { runDeploy } from './run';

/** The variable the flow runner reads its signing token from (studio/runner/execution.ts). */
export const RUNNER_SIGNING_TOKEN_ENV = 'STUDIO_RUNNER_AUTH_TOKEN';

export interface DeployedServiceOptions {
  /** The project to deploy (default: this repository, built first). */
  projectDir?: string;
  /** Where its declared dependencies are installed (default: this repository's node_modules). */
  nodeModules?: string;
  exampleBackend?: boolean;
  behaviour?: TwilioBehaviour;
  /** Extra environment for the functions, on top of the deployed one (local only). */
  env?: Record<string, string>;
  /** The deploy's own lines (preflight, the rehearsal's table, the domain). */
  out?: (line: string) => void;
  /** twilio-run's output as it comes (default: dropped). */
  write?: (text: string) => void;
  /** What the functions print. */
  functionLog?: (line: string) => void;
  emulatorLog?: (line: string) => void;
}

export interface DeployedService {
  /** Where the rehearsed domain answers here. */
  baseUrl: string;
  emulatorUrl: string;
  /** The twil.io domain of the rehearsed deploy. */
  domain: string;
  /** The token Twilio would sign with (the account's auth token in the rehearsal). */
  authToken: string;
  served: ServedDomain;
  emulator: EmulatorHandle;
  rehearsal: RehearsalResult;
  backend?: ExampleBackend;
  stop(): Promise<void>;
}

export class DeployedServiceError extends Error {}

type Credentials = { ACCOUNT_SID: string; AUTH_TOKEN: string };

/** The rehearsed deploy (`npm run deploy -- --rehearse`) and the environment it set. */
async function rehearseDeploy(options: DeployedServiceOptions, credentials: Credentials) {
  const out = options.out ?? (() => undefined);
  const errors: string[] = [];
  let rehearsal: RehearsalResult | undefined;
  const code = await runDeploy({
    rehearse: true,
    projectDir: options.projectDir ?? PROJECT_ROOT,
    twilioRunArgs: [],
    out,
    err: (line) => {
      errors.push(line);
      out(line);
    },
    write: options.write ?? (() => undefined),
    rehearsalCredentials: credentials,
    onRehearsed: (result) => (rehearsal = result),
  });
  const deployed = rehearsal?.standIn.deployedEnvironment(rehearsal.domain);
  if (code !== 0 || !rehearsal || !deployed) {
    throw new DeployedServiceError(
      `the rehearsed deploy failed (exit ${code}):\n${errors.filter((line) => !line.startsWith('preflight warning')).join('\n') || rehearsal?.output || ''}`,
    );
  }
  return { rehearsal, deployed };
}

/** What running here adds to the deployed environment: the emulator, and the example backend if asked for. */
async function localEnvironment(
  options: DeployedServiceOptions,
  emulator: EmulatorHandle,
): Promise<{ localEnv: Record<string, string>; backend?: ExampleBackend }> {
  const localEnv: Record<string, string> = { TWILIO_API_BASE_URL: emulator.url };
  let backend: ExampleBackend | undefined;
  if (options.exampleBackend) {
    const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
    backend = await startExampleBackend({ secret, resultFor: exampleResult });
    Object.assign(localEnv, { BACKEND_URL: backend.url, WEBHOOK_SECRET: secret });
  }
  Object.assign(localEnv, options.env);
  return { localEnv, backend };
}

export async function startDeployedService(options: DeployedServiceOptions = {}): Promise<DeployedService> {
  const credentials = { ACCOUNT_SID: LOCAL_ACCOUNT_SID, AUTH_TOKEN: crypto.randomBytes(16).toString('hex') };
  const { rehearsal, deployed } = await rehearseDeploy(options, credentials);
  const emulator = await loadStartEmulator()({
    port: 0,
    host: '127.0.0.1',
    authToken: credentials.AUTH_TOKEN,
    behaviour: options.behaviour,
    log: options.emulatorLog,
  });
  let backend: ExampleBackend | undefined;
  try {
    const local = await localEnvironment(options, emulator);
    backend = local.backend;
    const served = await serveDeployed({
      deployed,
      accountSid: credentials.ACCOUNT_SID,
      authToken: credentials.AUTH_TOKEN,
      nodeModules: options.nodeModules ?? path.join(PROJECT_ROOT, 'node_modules'),
      localEnv: local.localEnv,
      log: options.functionLog,
    });
    for (const note of served.closure.notes) options.out?.(`note: ${note}`);
    return {
      baseUrl: served.url,
      emulatorUrl: emulator.url,
      domain: deployed.domain,
      authToken: credentials.AUTH_TOKEN,
      served,
      emulator,
      rehearsal,
      backend,
      stop: async () => {
        await served.close();
        await emulator.close();
        await backend?.close();
      },
    };
  } catch (error) {
    await emulator.close();
    await backend?.close();
    throw error;
  }
}
