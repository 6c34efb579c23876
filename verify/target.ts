/**
 * Where the probes run. The probes are the same code for both targets; only the transport differs:
 *
 * - `twilio` (target-live.ts): the account in .env; the service and the probe endpoint deployed
 *   to a throwaway Serverless service; calls placed from `--from` to `--to` with their TwiML
 *   URL set to a probe Studio Flow's webhook.
 * - `emulator` (target-emulator.ts): the local stack (twilio-run + the Twilio emulator); a call is
 *   played by the flow runner (studio/runner) against the same flow, created in the emulator.
 */
import type { FlowDefinition } from '../studio/flow-model';
import type { CleanupRegistry } from './cleanup';
import type { VerifyClient } from './client';

export interface Timings {
  /** `<Dial timeLimit>` for V10, seconds. */
  timeLimitSeconds: number;
  /** The TwiML Redirect widget's `timeout` for S4/S5, seconds. */
  redirectTimeoutSeconds: number;
  /** How long to wait for something that should follow an action (a callback, a fetch). */
  settleMs: number;
  /** How long a call may take to be answered and reach the probe's room. */
  answerMs: number;
  /** Sync TTL probe: the TTL given, and how long to watch for the document to go. */
  ttlSeconds: number;
  ttlWatchMs: number;
}

export interface PlacedCall {
  callSid: string;
  /** Resolves when the call is over (or the target stopped following it). */
  done: Promise<void>;
}

export interface Target {
  kind: 'twilio' | 'emulator';
  client: VerifyClient;
  accountSid: string;
  /** The probe endpoint, e.g. https://<domain>/verify/probe (the key is added by probeUrl). */
  probeEndpoint: string;
  /** The run's secret key for the probe endpoint. */
  probeKey: string;
  /** The run's id (lower-case letters and digits): in every name it creates. */
  runId: string;
  /** Sync documents the probe endpoint writes start with this (`vfy_<run>_`). */
  syncPrefix: string;
  /** Names of resources this run creates start with this (flows, rooms). */
  namePrefix: string;
  timings: Timings;
  /** On the emulator: the profile it plays. */
  emulatorBehaviour?: string;
  /** Why voice probes cannot run on this target (no numbers given), if so. */
  voiceUnavailable?: string;
  /** The numbers probes use (`--from` on the account, `--to` the other party); unset when not given. */
  numbers?: { from: string; to: string };
  /** The shipped flows filled with this target's service (domain, SIDs), for FlowValidate. */
  fillValues(): Promise<Record<string, string>>;
  /** How often to look for the probe endpoint's records. */
  pollMs: number;
  /** Creates a flow for a probe and places one call into it; both are registered in `cleanup` to be removed. */
  callIntoFlow(
    cleanup: CleanupRegistry,
    probe: string,
    definition: FlowDefinition,
    options?: { fallbackUrl?: string },
  ): Promise<PlacedCall>;
  /** Stops everything in flight (SIGINT). */
  interrupt(): void;
  /** Prints progress. */
  log(line: string): void;
}

export function probeUrl(
  target: Pick<Target, 'probeEndpoint' | 'probeKey' | 'runId'>,
  params: Record<string, string | number>,
): string {
  const query = new URLSearchParams({ key: target.probeKey, run: target.runId });
  for (const [name, value] of Object.entries(params)) query.set(name, String(value));
  return `${target.probeEndpoint}?${query}`;
}

/** The prefixes of everything a run creates: its Sync documents (`vfy_<run>_`) and its other resources. */
export function runPrefixes(runId: string): Pick<Target, 'syncPrefix' | 'namePrefix'> {
  return { syncPrefix: `vfy_${runId}_`, namePrefix: `verify-${runId}-` };
}

/** Creates `probe`'s Studio Flow, registered in `scope` to be removed (by `remove`, else a plain delete). */
export async function createProbeFlow(
  client: VerifyClient,
  scope: CleanupRegistry,
  runId: string,
  probe: string,
  definition: FlowDefinition,
  remove: (flowSid: string) => Promise<unknown> = (flowSid) => client.studio.v2.flows(flowSid).remove(),
) {
  const flow = await client.studio.v2.flows.create({
    friendlyName: `verify-${runId} ${probe}`,
    status: 'published',
    definition,
  });
  scope.add(`Studio Flow for ${probe}`, async () => {
    await remove(flow.sid);
  });
  return flow;
}
