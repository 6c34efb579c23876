/**
 * The emulator's own API under `/_emulator/` (not Twilio's), used by the flow runner and tests to
 * play the caller's side of a call:
 *
 *   POST /_emulator/conferences/join            JSON {friendlyName, callSid?, startConferenceOnEnter?,
 *        endConferenceOnExit?, statusCallback?, statusCallbackMethod?, statusCallbackEvent?, from?, to?}
 *        -> {conferenceSid, callSid, conferenceStatus}
 *   POST /_emulator/calls                       JSON {callSid?, from?, to?, accountSid?}
 *        -> {callSid, status: 'in-progress'}: the caller dials in (a call in no conference); 409 if it exists
 *   POST /_emulator/calls/{callSid}/hangup      -> {callSid, status: 'completed'}
 *   GET  /_emulator/calls/{callSid}/released?timeoutMs=N&after=S
 *        -> {released: true, seq, reason, conferenceSid, twiml?, url?, method?}: the call's first
 *           release numbered above S (it left its conference: ended or redirected by REST, kicked,
 *           hung up; or it was redirected by REST outside any conference), as soon as there is one;
 *           or {released: false} at the timeout. S defaults to the releases before the call last
 *           joined a conference (so: the first release since that join).
 *   POST /_emulator/executions   JSON {flowSid, contact, flowAddress, trigger, executionSid?, accountSid?,
 *        concurrent?, definition?} -> {executionSid, status: 'active'}: the runner's inbound message or
 *        call starts an execution; 409 {error, activeExecutionSid} when the contact has one active there
 *   GET  /_emulator/executions?flowSid=&contact=&timeoutMs=N
 *        -> {executions: [...]}: REST-created executions nobody claimed yet, waiting up to N ms for one
 *   GET  /_emulator/executions/{sid}            -> the execution (status, endedBy, data, ...)
 *   POST /_emulator/executions/{sid}/claim      -> the execution, now the caller's to run; 409 if taken
 *   POST /_emulator/executions/{sid}/end        -> the execution, ended (its flow ended); unchanged if it was
 *   GET  /_emulator/behaviour    -> the behaviour profile {name, switches} (twilio-behaviour.ts)
 *   POST /_emulator/behaviour    JSON {name?, extends?, switches} (as a profile file) -> the new profile
 *   GET  /_emulator/stats        -> Twilio API request counts by operation, plus `total`
 *   GET  /_emulator/violations   -> the OpenAPI violations recorded so far
 *   POST /_emulator/reset        -> forget all state, counts and violations (faults and behaviour: back to the start options)
 *   GET  /_emulator/state        -> the documents and conferences held right now
 *   GET  /_emulator/faults       -> the fault config and what was injected so far
 *   POST /_emulator/faults       JSON {seed?, rules: [...]} -> replaces the fault config (see faults.ts)
 *   POST /_emulator/faults/reset -> no faults, counters at zero
 */
import { FaultConfigError, type FaultInjector } from './faults';
import { json, type Reply } from './http-io';
import { isObject } from './json-values';
import type { ParamBag } from './openapi';
import { one } from './routes';
import { DEFAULT_ACCOUNT_SID, sidPattern } from './sids';
import {
  BehaviourProfileError,
  BUILT_IN_PROFILES,
  profileFromJson,
  SWITCH_NAMES,
  type TwilioBehaviour,
} from './twilio-behaviour';
import {
  ExecutionControlError,
  executionSummary,
  type ExecutionStore,
  type InboundExecution,
} from './studio-executions';
import type { EmulatorState, SpecViolation } from './types';
import { CallStateError, type CallRelease, type JoinRequest, type NewCall, type VoiceStore } from './voice-store';

const DEFAULT_RELEASE_WAIT_MS = 10_000;
const MAX_RELEASE_WAIT_MS = 120_000;

interface ReleaseWaiter {
  after: number;
  finish(release: CallRelease | null): void;
}

/** Long-polls waiting for a call's release numbered above some `after`. */
export class ReleaseWaiters {
  private readonly waiters = new Map<string, Set<ReleaseWaiter>>();

  notify(callSid: string, release: CallRelease): void {
    const set = this.waiters.get(callSid);
    if (!set) return;
    for (const waiter of [...set]) if (release.seq > waiter.after) waiter.finish(release);
  }

  wait(callSid: string, after: number, timeoutMs: number, signal: AbortSignal): Promise<CallRelease | null> {
    return new Promise((resolve) => {
      const set = this.waiters.get(callSid) ?? new Set();
      this.waiters.set(callSid, set);
      const waiter: ReleaseWaiter = {
        after,
        finish: (release) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          set.delete(waiter);
          if (set.size === 0 && this.waiters.get(callSid) === set) this.waiters.delete(callSid);
          resolve(release);
        },
      };
      const onAbort = () => waiter.finish(null);
      const timer = setTimeout(() => waiter.finish(null), timeoutMs);
      signal.addEventListener('abort', onAbort);
      set.add(waiter);
    });
  }

  /** Answers every pending long-poll with "not released" (reset, close). */
  cancelAll(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const waiter of set) waiter.finish(null);
  }
}

export interface ControlDeps {
  voice: VoiceStore;
  releases: ReleaseWaiters;
  executions: ExecutionStore;
  stats(): Record<string, number>;
  violations(): SpecViolation[];
  reset(): Promise<void>;
  faults: FaultInjector;
  state(): EmulatorState;
  behaviour: { get(): TwilioBehaviour; set(profile: TwilioBehaviour): void };
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

function bodyObject(raw: unknown): Record<string, unknown> {
  if (!isObject(raw)) throw new CallStateError(400, 'body must be a JSON object');
  return raw;
}

/** Validates the join body; statusCallbackEvent may be an array or a space/comma separated string. */
function parseJoin(raw: unknown): JoinRequest {
  const body = bodyObject(raw);
  const friendlyName = optional<string>(body, 'friendlyName', 'string');
  if (!friendlyName) throw new CallStateError(400, 'friendlyName is required');
  const statusCallback = optional<string>(body, 'statusCallback', 'string');
  if (statusCallback !== undefined && !/^https?:\/\//.test(statusCallback)) {
    throw new CallStateError(400, 'statusCallback must be an http(s) URL');
  }
  const method = optional<string>(body, 'statusCallbackMethod', 'string')?.toUpperCase();
  if (method !== undefined && method !== 'GET' && method !== 'POST')
    throw new CallStateError(400, 'statusCallbackMethod must be GET or POST');
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

function parseNewCall(raw: unknown): NewCall {
  const body = bodyObject(raw);
  const accountSid = optional<string>(body, 'accountSid', 'string');
  if (accountSid !== undefined && !sidPattern('AC').test(accountSid))
    throw new CallStateError(400, 'accountSid must look like AC + 32 hex digits');
  return {
    callSid: optional<string>(body, 'callSid', 'string'),
    from: optional<string>(body, 'from', 'string'),
    to: optional<string>(body, 'to', 'string'),
    accountSid,
  };
}

function parseInbound(raw: unknown): InboundExecution {
  const body = bodyObject(raw);
  const text = (name: string, pattern?: RegExp): string => {
    const value = optional<string>(body, name, 'string');
    if (!value) throw new CallStateError(400, `${name} is required`);
    if (pattern && !pattern.test(value))
      throw new CallStateError(400, `${name} is malformed: ${JSON.stringify(value).slice(0, 60)}`);
    return value;
  };
  const executionSid = optional<string>(body, 'executionSid', 'string');
  if (executionSid !== undefined && !sidPattern('FN').test(executionSid))
    throw new CallStateError(400, 'executionSid must look like FN + 32 hex digits');
  const accountSid = optional<string>(body, 'accountSid', 'string') ?? DEFAULT_ACCOUNT_SID;
  if (!sidPattern('AC').test(accountSid)) throw new CallStateError(400, 'accountSid must look like AC + 32 hex digits');
  return {
    flowSid: text('flowSid', sidPattern('FW')),
    contact: text('contact'),
    flowAddress: text('flowAddress'),
    trigger: text('trigger', /^incoming[A-Za-z]+$/),
    accountSid,
    ...(executionSid ? { executionSid } : {}),
    ...(optional<boolean>(body, 'concurrent', 'boolean') ? { concurrent: true } : {}),
    ...(body.definition !== undefined ? { definition: body.definition } : {}),
  };
}

/**
 * A posted profile is checked like a file. Unnamed, it is called after its base and what it
 * changes, e.g. `documented + listInitConferencesByStatus=true`.
 */
function postedProfile(raw: unknown): TwilioBehaviour {
  const profile = profileFromJson(raw, 'POST /_emulator/behaviour');
  const named =
    typeof (raw as { name?: unknown }).name === 'string' && String((raw as { name: string }).name).trim() !== '';
  if (named) return profile;
  const base = ((raw as { extends?: string }).extends ?? 'documented') as keyof typeof BUILT_IN_PROFILES;
  const changed = SWITCH_NAMES.filter((name) => profile.switches[name] !== BUILT_IN_PROFILES[base].switches[name]);
  return { ...profile, name: [base, ...changed.map((name) => `${name}=${profile.switches[name]}`)].join(' + ') };
}

function readJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8') || '{}') };
  } catch {
    return { ok: false };
  }
}

function releaseBody(release: CallRelease): Record<string, unknown> {
  const { at: _at, ...rest } = release;
  return { released: true, ...rest };
}

/** A JSON body handed to `use`, or 400 when it is not JSON. */
async function withJson(body: Buffer, use: (value: unknown) => Reply | Promise<Reply>): Promise<Reply> {
  const parsed = readJson(body);
  return parsed.ok ? use(parsed.value) : controlError(400, 'body must be JSON');
}

/** `timeoutMs` of a long-poll, held to 0..MAX_RELEASE_WAIT_MS; `fallback` when it is absent or no number. */
function pollTimeoutMs(query: ParamBag, fallback: number): number {
  const requested = Number(one(query, 'timeoutMs') ?? fallback);
  return Number.isFinite(requested) ? Math.min(Math.max(requested, 0), MAX_RELEASE_WAIT_MS) : fallback;
}

/** Waits for the call's first release numbered above `after` (default: the releases before it last joined). */
async function waitForRelease(
  deps: ControlDeps,
  callSid: string,
  query: ParamBag,
  signal: AbortSignal,
): Promise<Reply> {
  const afterParam = one(query, 'after');
  const after = afterParam === undefined ? (deps.voice.findCall(callSid)?.releasesBeforeJoin ?? 0) : Number(afterParam);
  if (!Number.isInteger(after) || after < 0)
    return controlError(400, `after must be a whole number of releases, got "${afterParam}"`);
  const already = deps.voice.releaseAfter(callSid, after);
  if (already) return json(200, releaseBody(already));
  const timeoutMs = pollTimeoutMs(query, DEFAULT_RELEASE_WAIT_MS);
  const release = await deps.releases.wait(callSid, after, timeoutMs, signal);
  return json(200, release ? releaseBody(release) : { released: false });
}

/** The behaviour profile, switched at run time; a bad one is 400 and changes nothing. */
function setBehaviour(deps: ControlDeps, value: unknown): Reply {
  try {
    deps.behaviour.set(postedProfile(value));
  } catch (error) {
    if (error instanceof BehaviourProfileError) return controlError(400, error.message);
    throw error;
  }
  return json(200, deps.behaviour.get());
}

function configureFaults(deps: ControlDeps, value: unknown): Reply {
  try {
    return json(200, { config: deps.faults.configure(value) });
  } catch (error) {
    if (error instanceof FaultConfigError) return controlError(400, error.message);
    throw error;
  }
}

/** The routes that take a JSON body, each answering from the parsed body (400 when it is not JSON). */
const JSON_BODY_ROUTES = new Map<string, (deps: ControlDeps, value: unknown) => Reply>([
  [
    'POST /conferences/join',
    (deps, value) => {
      const { conference, call } = deps.voice.join(parseJoin(value));
      return json(200, { conferenceSid: conference.sid, callSid: call.sid, conferenceStatus: conference.status });
    },
  ],
  [
    'POST /calls',
    (deps, value) => {
      const call = deps.voice.createCall(parseNewCall(value));
      return json(200, { callSid: call.sid, status: call.status });
    },
  ],
  [
    'POST /executions',
    (deps, value) => {
      const execution = deps.executions.registerInbound(parseInbound(value));
      return json(200, { executionSid: execution.sid, status: execution.status });
    },
  ],
  ['POST /behaviour', setBehaviour],
  ['POST /faults', configureFaults],
]);

/** One request to the control API; `route` is `METHOD /path`, the path without its /_emulator prefix. */
interface ControlRequest {
  route: string;
  query: ParamBag;
  signal: AbortSignal;
}

/** The caller's side of a call it has: hang up, wait for a release; undefined for another route. */
async function callRoute(deps: ControlDeps, { route, query, signal }: ControlRequest): Promise<Reply | undefined> {
  const hangup = /^POST \/calls\/([^/]+)\/hangup$/.exec(route);
  if (hangup) {
    const call = deps.voice.hangup(decodeURIComponent(hangup[1]));
    return json(200, { callSid: call.sid, status: call.status });
  }
  const released = /^GET \/calls\/([^/]+)\/released$/.exec(route);
  if (released) return waitForRelease(deps, decodeURIComponent(released[1]), query, signal);
  return undefined;
}

/** What the emulator holds and counts, its behaviour profile and its faults; undefined for another route. */
async function adminRoute(deps: ControlDeps, route: string): Promise<Reply | undefined> {
  switch (route) {
    case 'GET /stats':
      return json(200, deps.stats());
    case 'GET /violations':
      return json(200, deps.violations());
    case 'GET /state':
      return json(200, deps.state());
    case 'GET /behaviour':
      return json(200, deps.behaviour.get());
    case 'GET /faults':
      return json(200, deps.faults.report());
    case 'POST /faults/reset':
      deps.faults.clear();
      return json(200, { reset: true });
    case 'POST /reset':
      await deps.reset();
      return json(200, { reset: true });
    default:
      return undefined;
  }
}

export async function handleControl(
  deps: ControlDeps,
  method: string,
  path: string,
  query: ParamBag,
  body: Buffer,
  signal: AbortSignal,
): Promise<Reply> {
  const request: ControlRequest = { route: `${method} ${path.replace(/^\/_emulator/, '')}`, query, signal };
  try {
    const withBody = JSON_BODY_ROUTES.get(request.route);
    if (withBody) return await withJson(body, (value) => withBody(deps, value));
    return (
      (await callRoute(deps, request)) ??
      (await executionRoute(deps, request)) ??
      (await adminRoute(deps, request.route)) ??
      controlError(404, `no control route ${request.route}`)
    );
  } catch (error) {
    if (error instanceof CallStateError) return controlError(error.status, error.message);
    if (error instanceof ExecutionControlError) return json(error.status, { error: error.message, ...error.details });
    throw error;
  }
}

/** The executions routes of the control API (but registering one), or undefined for another route. */
async function executionRoute(deps: ControlDeps, { route, query, signal }: ControlRequest): Promise<Reply | undefined> {
  if (route === 'GET /executions') {
    const flowSid = one(query, 'flowSid');
    const contact = one(query, 'contact');
    const found = await deps.executions.unclaimed(
      { ...(flowSid ? { flowSid } : {}), ...(contact ? { contact } : {}) },
      pollTimeoutMs(query, 0),
      signal,
    );
    return json(200, { executions: found.map(executionSummary) });
  }
  const match = /^(GET|POST) \/executions\/([^/]+)(?:\/(claim|end))?$/.exec(route);
  if (!match) return undefined;
  const [, method, rawSid, action] = match;
  const sid = decodeURIComponent(rawSid!);
  if (method === 'GET' && !action) {
    const execution = deps.executions.get(sid);
    return execution ? json(200, executionSummary(execution)) : controlError(404, `no execution ${sid}`);
  }
  if (method === 'POST' && action === 'claim') return json(200, executionSummary(deps.executions.claim(sid)));
  if (method === 'POST' && action === 'end') {
    const wasActive = deps.executions.get(sid)?.status === 'active';
    const execution = deps.executions.end(sid, 'flow-ended');
    return json(200, { ...executionSummary(execution), ...(wasActive ? {} : { alreadyEnded: true }) });
  }
  return undefined;
}
