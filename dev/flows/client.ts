/**
 * Who the flow commands talk to: the account in the environment, the emulator at an API base
 * URL, or (a rehearsal) a Twilio emulator started for the run, every request and reply checked
 * against Twilio's specs.
 */
import { loadConfig } from '../../src/lib/config';
import { createTwilioClient, type TwilioClient } from '../../src/lib/twilio/client';
import { hasRealCredentials, LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../credentials';
import { loadStartEmulator, type EmulatorHandle } from '../emulator-loader';
import { DeployFlowsError } from './placeholders';

/** The REST client: the account in the environment, or the emulator at apiBaseUrl. */
export function flowsClient(
  env: Record<string, string | undefined>,
  apiBaseUrl?: string,
): { client: TwilioClient; accountSid: string } {
  const real = hasRealCredentials({ ACCOUNT_SID: env.ACCOUNT_SID ?? '', AUTH_TOKEN: env.AUTH_TOKEN ?? '' });
  if (!real && !apiBaseUrl) {
    throw new DeployFlowsError(
      'Publishing flows needs ACCOUNT_SID and AUTH_TOKEN (in .env or the environment). Nothing was sent.',
    );
  }
  const accountSid = real ? env.ACCOUNT_SID! : LOCAL_ACCOUNT_SID;
  const authToken = real ? env.AUTH_TOKEN! : LOCAL_AUTH_TOKEN;
  // Only the credentials and the API base matter here; loadConfig shapes them like the service's.
  const config = loadConfig({ ACCOUNT_SID: accountSid, AUTH_TOKEN: authToken, TWILIO_API_BASE_URL: apiBaseUrl });
  return { client: createTwilioClient(config), accountSid };
}

/** A flow of the account, as Studio lists them. */
export type AccountFlow = Awaited<ReturnType<TwilioClient['studio']['v2']['flows']['list']>>[number];

/** The account's flow named `friendlyName`, if any; several of that name is an error. */
export function flowNamed(existing: AccountFlow[], friendlyName: string): AccountFlow | undefined {
  const matches = existing.filter((flow) => flow.friendlyName === friendlyName);
  if (matches.length > 1) {
    throw new DeployFlowsError(
      `several flows are named "${friendlyName}" (${matches.map((m) => m.sid).join(', ')}); rename or delete all but one`,
    );
  }
  return matches[0];
}

export interface FlowsTarget {
  client: TwilioClient;
  /** The emulator started for a rehearsal (its violations and stats tell how the run went). */
  emulator?: EmulatorHandle;
  /** Stops the rehearsal's emulator, if any. */
  close(): Promise<void>;
}

export interface FlowsTargetOptions {
  /** Run against a Twilio emulator started for the run, not the account or apiBaseUrl. */
  rehearse?: boolean;
  env: Record<string, string | undefined>;
  apiBaseUrl?: string;
  /** A rehearsal's account starts with this number (so `--number` has one to wire). */
  phoneNumber?: string;
  /** Told the emulator's URL once it runs. */
  onEmulator?: (emulator: EmulatorHandle) => void;
}

/** The client to deploy with; a rehearsal's emulator is started here and stopped by close(). */
export async function openFlowsTarget(options: FlowsTargetOptions): Promise<FlowsTarget> {
  if (!options.rehearse) {
    const { client } = flowsClient(options.env, options.apiBaseUrl);
    return { client, close: async () => undefined };
  }
  const emulator = await loadStartEmulator()({ port: 0, host: '127.0.0.1' });
  try {
    options.onEmulator?.(emulator);
    const { client } = flowsClient({}, emulator.url);
    if (options.phoneNumber !== undefined) await client.incomingPhoneNumbers.create({ phoneNumber: options.phoneNumber });
    return { client, emulator, close: () => emulator.close() };
  } catch (error) {
    await emulator.close();
    throw error;
  }
}
