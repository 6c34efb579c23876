/**
 * The emulator's own API under `/_emulator/` (not Twilio's), used by the flow runner and tests to
 * play the caller's side of a call:
 *
 *   POST /_emulator/conferences/join            JSON {friendlyName, callSid?, startConferenceOnEnter?,
 *        endConferenceOnExit?, statusCallback?, statusCallbackMethod?, statusCallbackEvent?, from?, to?}
 *        -> {conferenceSid, callSid, conferenceStatus}
 *   POST /_emulator/calls/{callSid}/hangup      -> {callSid, status: 'completed'}
 *   GET  /_emulator/calls/{callSid}/released?timeoutMs=N
 *        -> {released: true, reason, conferenceSid, twiml?, url?, method?} as soon as the call leaves
 *           its conference (ended or redirected by REST, kicked, hung up), or {released: false}
 *   GET  /_emulator/stats        -> Twilio API request counts by operation, plus `total`
 *   GET  /_emulator/violations   -> the OpenAPI violations recorded so far
 *   POST /_emulator/reset        -> forget all state, counts and violations (faults: back to the start options)
 *   GET  /_emulator/state        -> the documents and conferences held right now
 *   GET  /_emulator/faults       -> the fault config and what was injected so far
 *   POST /_emulator/faults       JSON {seed?, rules: [...]} -> replaces the fault config (see faults.ts)
 *   POST /_emulator/faults/reset -> no faults, counters at zero
 */
import { FaultConfigError, type FaultInjector } from './faults';
import { json, type Reply } from './http-io';
import type { ParamBag } from './openapi';
import { one } from './routes';
import type { EmulatorState, SpecViolation } from './types';
import { CallStateError, type CallRelease, type JoinRequest, type VoiceStore } from './voice-store';

const DEFAULT_RELEASE_WAIT_MS = 10_000;
const MAX_RELEASE_WAIT_MS = 120_000;

/** Long-polls waiting for a call to be released. */
export class ReleaseWaiters {
  private readonly waiters = new Map<string, Set<(release: CallRelease | null) => void>>();

  notify(callSid: string, release: CallRelease): void {
    const set = this.waiters.get(callSid);
    if (!set) return;
    this.waiters.delete(callSid);
    for (const resolve of set) resolve(release);
  }

  wait(callSid: string, timeoutMs: number, signal: AbortSignal): Promise<CallRelease | null> {
    return new Promise((resolve) => {
      const set = this.waiters.get(callSid) ?? new Set();
      this.waiters.set(callSid, set);
      const finish = (release: CallRelease | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        set.delete(finish);
        if (set.size === 0 && this.waiters.get(callSid) === set) this.waiters.delete(callSid);
        resolve(release);
      };
      const onAbort = () => finish(null);
      const timer = setTimeout(() => finish(null), timeoutMs);
      signal.addEventListener('abort', onAbort);
      set.add(finish);
    });
  }

  /** Answers every pending long-poll with "not released" (reset, close). */
  cancelAll(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const resolve of set) resolve(null);
  }
}

export interface ControlDeps {
  voice: VoiceStore;
  releases: ReleaseWaiters;
  stats(): Record<string, number>;
  violations(): SpecViolation[];
  reset(): Promise<void>;
  faults: FaultInjector;
  state(): EmulatorState;
}

function controlError(status: number, message: string): Reply {
  return json(status, { error: message });
}

function optional<T>(body: Record<string, unknown>, name: string, type: 'string' | 'boolean'): T | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw new CallStateError(400, `${name} must be a ${type}`);
  return value as T;
}

/** Validates the join body; statusCallbackEvent may be an array or a space/comma separated string. */
function parseJoin(raw: unknown): JoinRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CallStateError(400, 'body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const friendlyName = optional<string>(body, 'friendlyName', 'string');
  if (!friendlyName) throw new CallStateError(400, 'friendlyName is required');
  const statusCallback = optional<string>(body, 'statusCallback', 'string');
  if (statusCallback !== undefined && !/^https?:\/\//.test(statusCallback)) {
    throw new CallStateError(400, 'statusCallback must be an http(s) URL');
  }
  const method = optional<string>(body, 'statusCallbackMethod', 'string')?.toUpperCase();
  if (method !== undefined && method !== 'GET' && method !== 'POST') throw new CallStateError(400, 'statusCallbackMethod must be GET or POST');
  let events: string[] | undefined;
  const rawEvents = body.statusCallbackEvent;
  if (typeof rawEvents === 'string') events = rawEvents.split(/[\s,]+/).filter(Boolean);
  else if (Array.isArray(rawEvents) && rawEvents.every((e) => typeof e === 'string')) events = rawEvents as string[];
  else if (rawEvents !== undefined) throw new CallStateError(400, 'statusCallbackEvent must be a string array');
  return {
    friendlyName,
    callSid: optional<string>(body, 'callSid', 'string'),
    startConferenceOnEnter: optional<boolean>(body, 'startConferenceOnEnter', 'boolean'),
    endConferenceOnExit: optional<boolean>(body, 'endConferenceOnExit', 'boolean'),
    statusCallback,
    statusCallbackMethod: method as 'GET' | 'POST' | undefined,
    statusCallbackEvent: events,
    from: optional<string>(body, 'from', 'string'),
    to: optional<string>(body, 'to', 'string'),
  };
}

function releaseBody(release: CallRelease): Record<string, unknown> {
  const { at: _at, ...rest } = release;
  return { released: true, ...rest };
}

export async function handleControl(
  deps: ControlDeps,
  method: string,
  path: string,
  query: ParamBag,
  body: Buffer,
  signal: AbortSignal,
): Promise<Reply> {
  const route = `${method} ${path.replace(/^\/_emulator/, '')}`;
  try {
    if (route === 'POST /conferences/join') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return controlError(400, 'body must be JSON');
      }
      const { conference, call } = deps.voice.join(parseJoin(parsed));
      return json(200, { conferenceSid: conference.sid, callSid: call.sid, conferenceStatus: conference.status });
    }
    const hangup = /^POST \/calls\/([^/]+)\/hangup$/.exec(route);
    if (hangup) {
      const call = deps.voice.hangup(decodeURIComponent(hangup[1]));
      return json(200, { callSid: call.sid, status: call.status });
    }
    const released = /^GET \/calls\/([^/]+)\/released$/.exec(route);
    if (released) {
      const callSid = decodeURIComponent(released[1]);
      const already = deps.voice.findCall(callSid)?.release;
      if (already) return json(200, releaseBody(already));
      const requested = Number(one(query, 'timeoutMs') ?? DEFAULT_RELEASE_WAIT_MS);
      const timeoutMs = Number.isFinite(requested) ? Math.min(Math.max(requested, 0), MAX_RELEASE_WAIT_MS) : DEFAULT_RELEASE_WAIT_MS;
      const release = await deps.releases.wait(callSid, timeoutMs, signal);
      return json(200, release ? releaseBody(release) : { released: false });
    }
    if (route === 'GET /stats') return json(200, deps.stats());
    if (route === 'GET /violations') return json(200, deps.violations());
    if (route === 'GET /state') return json(200, deps.state());
    if (route === 'GET /faults') return json(200, deps.faults.report());
    if (route === 'POST /faults') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return controlError(400, 'body must be JSON');
      }
      try {
        return json(200, { config: deps.faults.configure(parsed) });
      } catch (error) {
        if (error instanceof FaultConfigError) return controlError(400, error.message);
        throw error;
      }
    }
    if (route === 'POST /faults/reset') {
      deps.faults.clear();
      return json(200, { reset: true });
    }
    if (route === 'POST /reset') {
      await deps.reset();
      return json(200, { reset: true });
    }
    return controlError(404, `no control route ${route}`);
  } catch (error) {
    if (error instanceof CallStateError) return controlError(error.status, error.message);
    throw error;
  }
}
