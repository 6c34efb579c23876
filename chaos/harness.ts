/**
 * The chaos harness: many simulated phone calls at once through the real voice flow
 * (flows/voice-hold.json, driven by the flow runner: Studio + the caller), against twilio-run
 * serving the built functions and the Twilio emulator, with faults injected into Twilio's API and
 * into the backend, and completions arriving at every awkward moment. After the calls it checks
 * that nothing was lost (see checkRun for the list of invariants).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import path from 'node:path';
import { startExampleBackend, type ExampleBackend } from '../backends/example-backend';
import { DEFAULT_PROFILE, type TwilioBehaviour } from '../emulator/twilio-behaviour';
import { sidPattern } from '../emulator/sids';
import type { EmulatorState, SpecViolation } from '../emulator/types';
import { isFinalStatus, type JobStatus } from '../src/lib/contracts';
import type { JobRecord } from '../src/lib/jobs/job';
import { resultHash } from '../src/lib/jobs/state';
import type { FlowDefinition } from '../studio/flow-model';
import { FUNCTION_TIME_LIMIT_MS } from '../studio/platform';
import { runFlow, type FlowRun } from '../studio/runner';
import { widgetOutputs } from '../studio/runner/run-json';
import { withStartParameters } from '../studio/runner/scenarios';
import type { ConcurrencyStats } from '../dev/function-concurrency';
import { startLocalStack, type LocalStack } from '../dev/local-stack';
import { DIST_DIR, PROJECT_ROOT } from '../dev/paths';
import { chaosFaults, planCall, type CallPlan } from './plan';
import { chaosResult } from './results';

export const CHAOS_SECRET = 'whsec_' + Buffer.from('chaos-harness-secret-2026').toString('base64');
const FLOW_FILE = path.join(PROJECT_ROOT, 'flows', 'voice-hold.json');
/** Length of the hold music asset (one turn of the hold loop plays it once). */
const HOLD_MUSIC_SECONDS = 10;
/** A completion that releases the caller does so within this of its final write (2 Twilio round trips and room to spare). */
const PROMPT_RELEASE_MS = 2_000;
/** Twilio stops a function after 10 s: one turn of the hold loop cannot take longer than music + this. */
const FUNCTION_LIMIT_MS = FUNCTION_TIME_LIMIT_MS;
/** A phone number in E.164 form. */
export const E164 = /\+[1-9]\d{7,14}/;

export interface ChaosOptions {
  calls: number;
  concurrency: number;
  seed: number;
  /** How fast the caller's side plays audio (0.1 = ten times faster). Service time is real. */
  timeScale: number;
  /** Multiplies the Twilio API fault rates (1 = the chaos defaults). */
  faultScale?: number;
  /** No new call starts after this long (the run still finishes and checks the calls it made). */
  timeLimitMs?: number;
  /** How the emulator and the runner play Twilio's unknowns (default: documented). */
  behaviour?: TwilioBehaviour;
  /**
   * Function executions the service may run at once (Twilio's limit, played by the local stack's
   * gate): past it a request is refused with 429. A small cap makes refusals happen, so the
   * invariants are checked with refused hold-loop turns, completions and Run Functions. 0 or
   * omitted: no cap (counted only).
   */
  concurrencyCap?: number;
  /**
   * The first calls start this far apart (ms), as traffic ramps up, instead of all at once (a
   * burst of /jobs/start at a small cap would only test Studio's retries). Default: 200 ms with
   * a cap, 0 without.
   */
  startSpacingMs?: number;
  log?: (line: string) => void;
}

export interface Violation {
  call?: number;
  jobId?: string;
  rule: string;
  detail: string;
}

export interface CompletionSent {
  jobId: string;
  status: 'COMPLETED' | 'FAILED';
  /** JSON of the result exactly as sent (COMPLETED). */
  resultJson?: string;
  reply: number;
  duplicate?: boolean;
  /** The job status /jobs/complete answered with. */
  answeredStatus?: string;
  /** /jobs/complete said this completion moved the caller out of the room. */
  released?: boolean;
  kind: 'backend' | 'manual' | 'replay' | 'duplicate' | 'conflicting';
}

export interface CallRecord {
  plan: CallPlan;
  startedAt: number;
  run?: FlowRun;
  jobId?: string;
  error?: string;
  completions: CompletionSent[];
}

export interface ChaosReport {
  seed: number;
  /** The behaviour profile the run played. */
  profile: string;
  calls: number;
  durationMs: number;
  faults: { total: number; emulator: number; backend: number; byKind: Record<string, number> };
  jobs: number;
  outcomes: Record<string, number>;
  flowEnds: Record<string, number>;
  /** Worst time a caller stayed in the room past the job's deadline. */
  maxHeldPastDeadlineMs: number;
  holdBoundMs: number;
  studioRequests: { total: number; unavailable503: number; refused429: number; slowestMs: number };
  /** The service's executions as the gate counted them: the cap, refusals (by path), the peak in flight. */
  capacity: Pick<ConcurrencyStats, 'cap' | 'refused' | 'refusedByPath' | 'peakInFlight' | 'total' | 'executionMs'>;
  /**
   * Of the calls that did not end as a call should (rule 7), those whose hold loop ended on a
   * refused turn: the gap docs/TWILIO-DIFFERENCES.md describes (waitUrl ignoring the retry
   * overrides and timeLimit not bounding a conference). They are violations all the same.
   */
  strandedByRefusedTurn: number;
  violations: Violation[];
}

/**
 * A private copy of dist/ inside the project (twilio-run resolves its folders from the project
 * root), so a build running meanwhile (another jest run's global setup) cannot swap files under
 * a run. `relative` is what startLocalStack's distDir takes; remove() deletes the copy.
 */
export function privateDistCopy(): { relative: string; remove(): void } {
  if (!fs.existsSync(path.join(DIST_DIR, 'functions'))) throw new Error('dist/ is missing: run `npm run build` first');
  const root = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'studio-async-chaos');
  fs.mkdirSync(root, { recursive: true });
  const target = fs.mkdtempSync(path.join(root, 'dist-'));
  fs.cpSync(DIST_DIR, target, { recursive: true });
  return {
    relative: path.relative(PROJECT_ROOT, target),
    remove: () => fs.rmSync(target, { recursive: true, force: true }),
  };
}

export interface ChaosStack {
  stack: LocalStack;
  backend: ExampleBackend;
  definition: FlowDefinition;
  behaviour: TwilioBehaviour;
  stop(): Promise<void>;
}

/**
 * twilio-run (in-process functions, see docs/RELIABILITY.md) behind the concurrency gate (with
 * `concurrencyCap`; 0 counts without refusing) + emulator + example backend.
 */
export async function startChaosStack(
  behaviour: TwilioBehaviour = DEFAULT_PROFILE,
  concurrencyCap = 0,
): Promise<ChaosStack> {
  const dist = privateDistCopy();
  const backend = await startExampleBackend({
    secret: CHAOS_SECRET,
    resultFor: (dispatch) => chaosResult(Number(dispatch.input.chaosCall ?? 0), dispatch.jobId),
    completionRetryMs: 15_000,
  });
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      env: { BACKEND_URL: backend.url, WEBHOOK_SECRET: CHAOS_SECRET, DISPATCH_TIMEOUT_MS: '1000' },
      forkProcess: false,
      live: false,
      distDir: dist.relative,
      output: 'pipe',
      behaviour,
      concurrencyCap,
    });
  } catch (error) {
    await backend.close();
    dist.remove();
    throw error;
  }
  const definition = JSON.parse(fs.readFileSync(FLOW_FILE, 'utf8')) as FlowDefinition;
  return {
    stack,
    backend,
    definition,
    behaviour,
    stop: async () => {
      await stack.stop();
      await backend.close();
      dist.remove();
    },
  };
}

/** POSTs a completion to the job's callbackUrl like a backend: retried on no answer / 429 / 5xx. */
async function sendCompletion(url: string, raw: string, retryForMs: number) {
  const giveUpAt = Date.now() + retryForMs;
  for (let attempt = 1; ; attempt++) {
    let status: number;
    let body: any;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: raw,
        signal: AbortSignal.timeout(12_000),
      });
      status = response.status;
      body = await response.json().catch(() => undefined);
    } catch {
      status = 0;
    }
    const retry = status === 0 || status === 429 || status >= 500;
    if (!retry || Date.now() + 300 * attempt > giveUpAt) return { status, body };
    await sleep(300 * attempt);
  }
}

/** The harness plays the backend for `manual` jobs: completions at chosen moments, replays, conflicts. */
async function manualCompletions(
  record: CallRecord,
  backend: ExampleBackend,
  stopAt: number,
  callOver: () => number | undefined,
): Promise<void> {
  const plan = record.plan.manual!;
  const marker = String(record.plan.index);
  let dispatchedAt = 0;
  let jobId: string | undefined;
  // No dispatch 2 s after the call ended (every start refused or failed): none is coming.
  const givenUp = () => Date.now() >= stopAt || (callOver() ?? Number.POSITIVE_INFINITY) + 2_000 <= Date.now();
  while (!jobId && !givenUp()) {
    const dispatch = backend.dispatches.find((d) => d.input.chaosCall === marker);
    if (dispatch) {
      jobId = dispatch.jobId;
      dispatchedAt = Date.now();
    } else await sleep(20);
  }
  if (!jobId) return;
  // The result the backend made for this job (as it would send it); none if it never took the job.
  while (!backend.results.has(jobId) && Date.now() < dispatchedAt + 3000) await sleep(20);
  const result = backend.results.get(jobId);
  if (!result) return;
  await sleep(dispatchedAt + plan.atMs - Date.now());
  const first =
    plan.status === 'COMPLETED'
      ? { jobId, status: 'COMPLETED' as const, result }
      : { jobId, status: 'FAILED' as const, error: { code: 'CHAOS_FAILED', message: 'the chaos backend gave up' } };
  const raw = JSON.stringify(first);
  const callbackUrl = backend.dispatches.find((d) => d.jobId === jobId)!.callbackUrl;
  const note = (
    kind: CompletionSent['kind'],
    reply: { status: number; body: any },
    sent: { status: 'COMPLETED' | 'FAILED'; result?: unknown },
  ) =>
    record.completions.push({
      jobId: jobId!,
      status: sent.status,
      resultJson: sent.status === 'COMPLETED' ? JSON.stringify(sent.result) : undefined,
      reply: reply.status,
      duplicate: reply.body?.duplicate,
      answeredStatus: reply.body?.status,
      released: reply.body?.released,
      kind,
    });
  note('manual', await sendCompletion(callbackUrl, raw, 15_000), first);
  if (plan.replay) note('replay', await sendCompletion(callbackUrl, raw, 15_000), first);
  if (plan.duplicate) note('duplicate', await sendCompletion(callbackUrl, raw, 15_000), first);
  if (plan.conflicting) {
    const other =
      first.status === 'COMPLETED'
        ? { jobId, status: 'FAILED' as const, error: 'changed its mind' }
        : { jobId, status: 'COMPLETED' as const, result: { other: true } };
    const otherRaw = JSON.stringify(other);
    note('conflicting', await sendCompletion(callbackUrl, otherRaw, 15_000), other);
  }
}

/** One simulated call: the flow runner plays Studio and the caller; the harness may play the backend. */
async function runCall(chaos: ChaosStack, plan: CallPlan, timeScale: number): Promise<CallRecord> {
  const record: CallRecord = { plan, startedAt: Date.now(), completions: [] };
  const definition = withStartParameters(chaos.definition, plan.startParameters);
  const ended: { at?: number } = {};
  const manual = plan.manual
    ? manualCompletions(record, chaos.backend, Date.now() + 40_000, () => ended.at).catch((error: unknown) => {
        record.error = `manual completion failed: ${(error as Error).message}`;
      })
    : Promise.resolve();
  try {
    record.startedAt = Date.now();
    record.run = await runFlow({
      definition,
      baseUrl: chaos.stack.baseUrl,
      emulatorUrl: chaos.stack.emulator.url,
      trigger: { kind: 'call', from: plan.from },
      timeScale,
      hangUpAfterMs: plan.hangUpAfterMs,
      joinDelayMs: plan.joinDelayMs,
      maxRunMs: 120_000,
      behaviour: chaos.behaviour,
    });
  } catch (error) {
    record.error = `runFlow threw: ${(error as Error).stack ?? String(error)}`;
  }
  ended.at = Date.now();
  await manual;
  const parsed = (record.run ? widgetOutputs(record.run, 'start_job') : undefined)?.parsed as
    { jobId?: string } | undefined;
  record.jobId = parsed?.jobId ?? chaos.backend.dispatches.find((d) => d.input.chaosCall === String(plan.index))?.jobId;
  return record;
}

const JOB_SID = sidPattern('JB');

/** The job documents (`job_<JB sid>`). */
const jobDocs = (state: EmulatorState) =>
  state.documents.filter(
    (doc) => doc.uniqueName?.startsWith('job_') && JOB_SID.test(doc.uniqueName.slice('job_'.length)),
  );

/** The raw text of `"result":<...>` in a /jobs/result or /jobs/start reply (the reply ends with it for COMPLETED jobs). */
function rawResultOf(body: string): string | undefined {
  const at = body.indexOf('"result":');
  if (at < 0) return undefined;
  const rest = body.slice(at + '"result":'.length);
  try {
    // The result is the last member: everything up to the object's closing brace.
    const text = rest.slice(0, -1);
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify((JSON.parse(body) as { result?: unknown }).result);
  }
}

type JobDocument = EmulatorState['documents'][number];

/** A finished run as the checks read it: everything gathered once, after the last deadline. */
export interface FinishedRun {
  records: CallRecord[];
  /** The job documents after every deadline, by job id. */
  docs: Map<string, JobDocument>;
  conferences: EmulatorState['conferences'];
  /** /jobs/status replies (read after the deadlines, like Studio would) that were not a final status. */
  unfinalStatusReads: Array<{ jobId: string; status: number; body: unknown }>;
  /** Completions the example backend sent (push mode), by job. */
  backendSent: Map<string, CompletionSent[]>;
  /** The results the backend made, by job (what it sent, or would have). */
  backendResults: ExampleBackend['results'];
  /** Faults injected per Twilio resource (a call SID with faults: Twilio was slow for that caller). */
  faultedResources: Record<string, number>;
  /** The longest a caller may stay past the deadline: one turn of the hold loop. */
  holdLoopMs: number;
  specViolations: SpecViolation[];
  functionLogs: string;
}

/** A call that made a job whose document is there: what the per-job invariants look at. */
interface JobCall {
  record: CallRecord;
  run: FlowRun;
  jobId: string;
  job: JobRecord;
}

function jobCalls(finished: FinishedRun): JobCall[] {
  const calls: JobCall[] = [];
  for (const record of finished.records) {
    const doc = record.jobId === undefined ? undefined : finished.docs.get(record.jobId);
    if (record.run && doc) {
      calls.push({ record, run: record.run, jobId: record.jobId!, job: doc.data as unknown as JobRecord });
    }
  }
  return calls;
}

/** Every completion sent for the call's job: the harness's own (manual) and the backend's. */
function completionsOf(finished: FinishedRun, call: JobCall): CompletionSent[] {
  return [...call.record.completions, ...(finished.backendSent.get(call.jobId) ?? [])];
}

const violation = (rule: string, detail: string, record?: CallRecord, jobId?: string): Violation => ({
  rule,
  detail,
  call: record?.plan.index,
  jobId: jobId ?? record?.jobId,
});

/** 1: every job ends in a final status, read through /jobs/status and in its document. */
export function checkFinalStatus(finished: FinishedRun): Violation[] {
  const found = finished.unfinalStatusReads.map(({ jobId, status, body }) =>
    violation(
      '1 final status',
      `after its deadline /jobs/status answered ${status} ${JSON.stringify(body)}`,
      undefined,
      jobId,
    ),
  );
  for (const [jobId, doc] of finished.docs) {
    const { status } = doc.data as unknown as JobRecord;
    if (!isFinalStatus(status)) found.push(violation('1 final status', `document still ${status}`, undefined, jobId));
  }
  for (const record of finished.records) {
    if (record.run && record.jobId !== undefined && !finished.docs.has(record.jobId))
      found.push(violation('1 final status', 'the job document is gone', record));
  }
  return found;
}

/** 2: every COMPLETED result Studio read is byte-identical to what the backend sent. */
export function checkByteIdenticalResult(finished: FinishedRun): Violation[] {
  const found: Violation[] = [];
  for (const { record, run, jobId } of jobCalls(finished)) {
    const sent = finished.backendResults.get(jobId);
    const expected = sent === undefined ? undefined : JSON.stringify(sent);
    for (const widget of ['start_job', 'get_result']) {
      const outputs = widgetOutputs(run, widget) as { body?: string; parsed?: { status?: string } } | undefined;
      if (outputs?.parsed?.status !== 'COMPLETED' || typeof outputs.body !== 'string') continue;
      const raw = rawResultOf(outputs.body);
      if (raw === undefined || expected === undefined || raw !== expected) {
        found.push(
          violation(
            '2 byte-identical result',
            `${widget} read ${raw?.slice(0, 120)} but the backend sent ${expected?.slice(0, 120)}`,
            record,
          ),
        );
      }
    }
  }
  return found;
}

/** How long after the job's deadline the caller left the hold room (undefined: nobody was held). */
function heldPastDeadline({ record, run, job }: JobCall): number | undefined {
  const held = heldUntil(run, record.startedAt);
  return held === undefined ? undefined : held - job.deadline;
}

/** 3: no caller stays in the room later than the deadline plus one turn of the hold loop. */
export function checkHoldBounded(finished: FinishedRun): Violation[] {
  const found: Violation[] = [];
  for (const call of jobCalls(finished)) {
    const past = heldPastDeadline(call);
    if (past !== undefined && past > finished.holdLoopMs) {
      found.push(
        violation(
          '3 hold bounded',
          `the caller left the room ${past} ms after the deadline (bound ${finished.holdLoopMs} ms)`,
          call.record,
        ),
      );
    }
  }
  return found;
}

/** The outcome fields of a job record that must never change once it is final. */
const outcomeOf = (job: JobRecord) =>
  JSON.stringify({
    status: job.status,
    resultHash: job.resultHash,
    error: job.error,
    result: job.result,
    chunks: job.resultChunks,
  });

/**
 * 4: no job is finalized twice with different outcomes (its document's history), and everything
 * anyone was told agrees with the final document: Studio's statuses, the hold's return status;
 * a conflicting completion is never acknowledged.
 */
export function checkFinalizedOnce(finished: FinishedRun): Violation[] {
  const found: Violation[] = [];
  for (const [jobId, doc] of finished.docs) {
    const versions = [...doc.history.map((h) => h.data as unknown as JobRecord), doc.data as unknown as JobRecord];
    const firstFinalAt = versions.findIndex((version) => isFinalStatus(version.status));
    if (firstFinalAt < 0) continue;
    const firstFinal = versions[firstFinalAt]!;
    for (const later of versions.slice(firstFinalAt + 1)) {
      if (outcomeOf(later) !== outcomeOf(firstFinal)) {
        const change = `${outcomeOf(firstFinal).slice(0, 200)} to ${outcomeOf(later).slice(0, 200)}`;
        found.push(violation('4 finalized once', `final outcome changed from ${change}`, undefined, jobId));
      }
    }
  }
  for (const call of jobCalls(finished)) {
    const { record, run, job } = call;
    const told: Array<[string, string | undefined]> = [
      ['start_job', (widgetOutputs(run, 'start_job')?.parsed as { status?: string } | undefined)?.status],
      ['get_result', (widgetOutputs(run, 'get_result')?.parsed as { status?: string } | undefined)?.status],
      ['hold return', widgetOutputs(run, 'hold')?.status as string | undefined],
    ];
    for (const [where, status] of told) {
      if (status && status !== 'PENDING' && status !== job.status)
        found.push(violation('4 finalized once', `${where} said ${status}, the job is ${job.status}`, record));
    }
    for (const completion of completionsOf(finished, call)) {
      if (completion.reply === 200 && completion.kind === 'conflicting')
        found.push(violation('4 finalized once', `a conflicting completion was acknowledged with 200`, record));
    }
  }
  return found;
}

/** 5: no completion that was acknowledged as applied is lost: the job holds what it said. */
export function checkAcknowledgedCompletionKept(finished: FinishedRun): Violation[] {
  const found: Violation[] = [];
  for (const call of jobCalls(finished)) {
    const { job } = call;
    for (const completion of completionsOf(finished, call)) {
      if (completion.reply !== 200) continue;
      const matches =
        completion.status === job.status &&
        (completion.status !== 'COMPLETED' ||
          (completion.resultJson !== undefined &&
            resultHash(JSON.parse(completion.resultJson) as Record<string, unknown>) === job.resultHash));
      if (!matches) {
        found.push(
          violation(
            '5 acknowledged completion kept',
            `${completion.kind} ${completion.status} was acknowledged (duplicate=${completion.duplicate}) but the job is ${job.status}`,
            call.record,
          ),
        );
      }
    }
  }
  return found;
}

/** 6: no conference is left open, no caller left in one. */
export function checkNoLeftoverConference(finished: FinishedRun): Violation[] {
  return finished.conferences
    .filter((conference) => conference.status !== 'completed' || conference.participants.length > 0)
    .map((conference) =>
      violation(
        '6 no leftover conference',
        `${conference.friendlyName} is ${conference.status} with ${conference.participants.length} participant(s)`,
      ),
    );
}

/** The flow ended the way a call should: completed, or the caller hung up when the plan said so. */
function endedAsACallShould(plan: CallPlan, run: FlowRun): boolean {
  return (
    run.end.kind === 'completed' ||
    (plan.hangUpAfterMs !== undefined && (run.end.kind === 'caller-hung-up' || run.end.kind === 'call-ended'))
  );
}

/**
 * 7: every flow ends the way a call should (no run stuck, no error), and Studio never sees a 5xx
 * other than 503 TWILIO_UNAVAILABLE, a 4xx other than the platform's 429, or a reply slower than
 * a function may take.
 */
export function checkFlowEnds(finished: FinishedRun): Violation[] {
  const found: Violation[] = [];
  for (const record of finished.records) {
    const { run, plan } = record;
    if (record.error) found.push(violation('7 flow ends', record.error, record));
    if (!run) continue;
    if (!endedAsACallShould(plan, run))
      found.push(violation('7 flow ends', `the flow ended: ${JSON.stringify(run.end)}`, record));
    for (const request of run.requests) {
      const what = `${request.method} ${request.url}`;
      if (request.status !== undefined && request.status >= 400 && request.status !== 503 && request.status !== 429)
        found.push(violation('7 studio replies', `${what} answered ${request.status}`, record));
      if (request.error && !/interrupted|aborted|hangup/i.test(request.error))
        found.push(violation('7 studio replies', `${what} failed: ${request.error}`, record));
      if (request.durationMs > FUNCTION_LIMIT_MS)
        found.push(violation('7 studio replies', `${what} took ${request.durationMs} ms`, record));
    }
  }
  return found;
}

/** 8: the emulator saw no request Twilio would refuse, and no phone number reached a room name or the function logs. */
export function checkSpecAndPersonalData(finished: FinishedRun): Violation[] {
  const found = finished.conferences
    .filter((conference) => E164.test(conference.friendlyName))
    .map((conference) => violation('8 no personal data', `room name ${conference.friendlyName} holds a phone number`));
  for (const spec of finished.specViolations)
    found.push(violation('8 spec', `${spec.kind} ${spec.method} ${spec.path}: ${spec.problems.join('; ')}`));
  const phone = finished.functionLogs.split('\n').find((line) => E164.test(line));
  if (phone) found.push(violation('8 no personal data', `a phone number in the function logs: ${phone.slice(0, 200)}`));
  return found;
}

/**
 * 9: a completion that moved the caller out did so within PROMPT_RELEASE_MS of the job's final
 * write (when no fault struck the caller's Call: a latency or a 429 there is Twilio being slow).
 */
export function checkPromptRelease(finished: FinishedRun): Violation[] {
  const found: Violation[] = [];
  for (const call of jobCalls(finished)) {
    const { record, run, jobId, job } = call;
    const stay = [...((run as Partial<FlowRun>).rooms ?? [])]
      .reverse()
      .find((room) => room.friendlyName === `hold_${jobId}`);
    const callFaulted = run.callSid !== undefined && (finished.faultedResources[run.callSid] ?? 0) > 0;
    const released = completionsOf(finished, call).some((c) => c.reply === 200 && c.released === true);
    if (callFaulted || !released || job.finishedBy !== 'callback' || job.finishedAt === undefined || !stay) continue;
    const joinedAt = record.startedAt + stay.joinedAtMs;
    const leftAt = stay.leftAtMs === undefined ? Number.POSITIVE_INFINITY : record.startedAt + stay.leftAtMs;
    if (joinedAt <= job.finishedAt && leftAt - job.finishedAt > PROMPT_RELEASE_MS) {
      found.push(
        violation(
          '9 prompt release',
          `the caller left the room ${leftAt - job.finishedAt} ms after the completion was written (bound ${PROMPT_RELEASE_MS} ms)`,
          record,
        ),
      );
    }
  }
  return found;
}

/** Completions the example backend sent (push mode), by job, in the harness's terms. */
function backendCompletions(backend: Pick<ExampleBackend, 'completions' | 'results'>): Map<string, CompletionSent[]> {
  const sent = new Map<string, CompletionSent[]>();
  for (const completion of backend.completions) {
    const body = completion.body as { duplicate?: boolean; status?: string; released?: boolean } | undefined;
    const resultJson = backend.results.has(completion.jobId)
      ? JSON.stringify(backend.results.get(completion.jobId))
      : undefined;
    const list = sent.get(completion.jobId) ?? [];
    list.push({
      jobId: completion.jobId,
      status: resultJson ? 'COMPLETED' : 'FAILED',
      resultJson,
      reply: completion.status,
      duplicate: body?.duplicate,
      answeredStatus: body?.status,
      released: body?.released,
      kind: 'backend',
    });
    sent.set(completion.jobId, list);
  }
  return sent;
}

/** Waits for every job's deadline to pass, then reads each job like Studio would (lazily final): the reads that were not final. */
async function readStatusesAfterDeadlines(
  stack: LocalStack,
  waitForDeadlines: boolean,
): Promise<FinishedRun['unfinalStatusReads']> {
  const latestDeadline = Math.max(
    0,
    ...jobDocs(stack.emulator.state()).map((doc) => Number((doc.data as unknown as JobRecord).deadline)),
  );
  if (waitForDeadlines) await sleep(latestDeadline + 1500 - Date.now());
  const unfinal: FinishedRun['unfinalStatusReads'] = [];
  for (const doc of jobDocs(stack.emulator.state())) {
    const jobId = doc.uniqueName!.slice('job_'.length);
    const response = await statusPastTheCap(`${stack.baseUrl}/jobs/status`, jobId);
    const body = (await response.json().catch(() => undefined)) as { status?: JobStatus } | undefined;
    if (response.status !== 200 || !body?.status || !isFinalStatus(body.status))
      unfinal.push({ jobId, status: response.status, body });
  }
  return unfinal;
}

/** Gathers what the checks read, once every deadline has passed. */
export async function finishRun(
  chaos: Pick<ChaosStack, 'stack' | 'backend'>,
  records: CallRecord[],
  timeScale: number,
  options: { waitForDeadlines?: boolean } = {},
): Promise<FinishedRun> {
  const { stack, backend } = chaos;
  const faultedResources = stack.emulator.faults.report().byResource ?? {};
  stack.emulator.faults.clear();
  const unfinalStatusReads = await readStatusesAfterDeadlines(stack, options.waitForDeadlines !== false);
  await sleep(500);
  const state = stack.emulator.state();
  return {
    records,
    docs: new Map(jobDocs(state).map((doc) => [doc.uniqueName!.slice('job_'.length), doc])),
    conferences: state.conferences,
    unfinalStatusReads,
    backendSent: backendCompletions(backend),
    backendResults: backend.results,
    faultedResources,
    holdLoopMs: HOLD_MUSIC_SECONDS * 1000 * timeScale + FUNCTION_LIMIT_MS,
    specViolations: stack.emulator.violations(),
    functionLogs: stack.recentOutput(),
  };
}

/** Jobs by final (or not) status. */
function outcomeCounts(finished: FinishedRun): Record<string, number> {
  const outcomes: Record<string, number> = {};
  for (const doc of finished.docs.values()) {
    const { status } = doc.data as unknown as JobRecord;
    outcomes[status] = (outcomes[status] ?? 0) + 1;
  }
  return outcomes;
}

/** Every request Studio made: how many, how many refused (503, 429), the slowest. */
function studioRequestCounts(finished: FinishedRun): ChaosReport['studioRequests'] {
  const studio = { total: 0, unavailable503: 0, refused429: 0, slowestMs: 0 };
  for (const request of finished.records.flatMap((record) => record.run?.requests ?? [])) {
    studio.total += 1;
    studio.slowestMs = Math.max(studio.slowestMs, request.durationMs);
    if (request.status === 503) studio.unavailable503 += 1;
    else if (request.status === 429) studio.refused429 += 1;
  }
  return studio;
}

/** Of the flows that did not end as a call should, those whose hold loop ended on a refused (429) turn. */
function strandedByRefusedTurn(finished: FinishedRun): number {
  return finished.records.filter(({ run, plan }) => {
    if (!run || endedAsACallShould(plan, run)) return false;
    const turns = run.requests.filter((request) => request.url.includes('/hold/wait'));
    return turns[turns.length - 1]?.status === 429;
  }).length;
}

/** The worst time a caller stayed in the room past the job's deadline (0 if none did). */
function maxHeldPastDeadline(finished: FinishedRun): number {
  return Math.max(0, ...jobCalls(finished).map((call) => heldPastDeadline(call) ?? 0));
}

/** The invariants, in the order of checkRun's list. */
const INVARIANT_CHECKS: ReadonlyArray<(finished: FinishedRun) => Violation[]> = [
  checkFinalStatus,
  checkByteIdenticalResult,
  checkHoldBounded,
  checkFinalizedOnce,
  checkAcknowledgedCompletionKept,
  checkNoLeftoverConference,
  checkFlowEnds,
  checkSpecAndPersonalData,
  checkPromptRelease,
];

/**
 * Checks a finished run. Invariants (one check function each):
 *  1. every job ends in a final status (after its deadline, read through /jobs/status): checkFinalStatus;
 *  2. every COMPLETED result Studio read (start_job inline, get_result) is byte-identical to what
 *     the backend sent: checkByteIdenticalResult;
 *  3. no caller stays in the room later than the deadline plus one turn of the hold loop
 *     (the music once, plus the longest a function may run): checkHoldBounded;
 *  4. no job is finalized twice with different outcomes (the document's history in Sync), and
 *     everything anyone was told agrees with the final document: Studio's statuses, the hold's
 *     return status, completion acknowledgements: checkFinalizedOnce;
 *  5. no completion that was acknowledged as applied is lost: checkAcknowledgedCompletionKept;
 *  6. no conference is left open, no caller left in one: checkNoLeftoverConference;
 *  7. every flow ends the way a call should (no run stuck, no error), Studio never sees a 5xx
 *     other than 503 TWILIO_UNAVAILABLE, a 4xx, or a reply slower than 10 s (a 429 is the
 *     platform's concurrency limit, counted apart: the service itself never answers 429): checkFlowEnds;
 *  8. the emulator saw no request Twilio would refuse (OpenAPI) and no phone number reached the
 *     function logs or a room name: checkSpecAndPersonalData;
 *  9. a completion that released the caller did so promptly (within 2 s of the job's final
 *     write, unless Twilio was slow for that call): checkPromptRelease.
 */
export async function checkRun(
  chaos: Pick<ChaosStack, 'stack' | 'backend'>,
  records: CallRecord[],
  timeScale: number,
  options: { waitForDeadlines?: boolean } = {},
): Promise<{
  violations: Violation[];
  outcomes: Record<string, number>;
  maxHeldPastDeadlineMs: number;
  holdBoundMs: number;
  studio: ChaosReport['studioRequests'];
  jobs: number;
  strandedByRefusedTurn: number;
}> {
  const finished = await finishRun(chaos, records, timeScale, options);
  return {
    violations: INVARIANT_CHECKS.flatMap((check) => check(finished)),
    outcomes: outcomeCounts(finished),
    maxHeldPastDeadlineMs: maxHeldPastDeadline(finished),
    holdBoundMs: finished.holdLoopMs,
    studio: studioRequestCounts(finished),
    jobs: finished.docs.size,
    strandedByRefusedTurn: strandedByRefusedTurn(finished),
  };
}

/** Reads a job's status like Studio would, waiting out refusals of the concurrency cap (429, Retry-After). */
async function statusPastTheCap(url: string, jobId: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, { method: 'POST', body: new URLSearchParams({ jobId }) });
    if (response.status !== 429 || attempt >= 20) return response;
    await response.arrayBuffer();
    await sleep(Number(response.headers.get('retry-after') ?? '1') * 1000);
  }
}

/**
 * When the caller last left a hold room (epoch ms), if they were in one: Infinity if they never
 * left it; undefined if they were never in one or hung up there (then nobody was held).
 */
function heldUntil(run: FlowRun, startedAt: number): number | undefined {
  const rooms = (run as Partial<FlowRun>).rooms;
  if (rooms) {
    const last = rooms[rooms.length - 1];
    if (!last || last.leftBecause === 'caller-hangup' || last.leftBecause === 'run-stopped') return undefined;
    return last.leftAtMs === undefined ? Number.POSITIVE_INFINITY : startedAt + last.leftAtMs;
  }
  // Older runners: read it from the timeline.
  let joined = false;
  let left: number | undefined;
  for (const entry of run.timeline) {
    if (entry.kind !== 'voice') continue;
    if (entry.text.startsWith('joins room')) joined = true;
    if (joined && (entry.text.startsWith('released from the room') || entry.text.startsWith('Dial timeLimit')))
      left = startedAt + entry.atMs;
  }
  return joined ? left : undefined;
}

/** Runs the planned calls, at most `concurrency` at once, until all are made or the time limit; logs progress. */
async function runCalls(chaos: ChaosStack, options: ChaosOptions, began: number): Promise<CallRecord[]> {
  const log = options.log ?? (() => undefined);
  const records: CallRecord[] = [];
  let next = 0;
  let finished = 0;
  const stopStartingAt = began + (options.timeLimitMs ?? Number.POSITIVE_INFINITY);
  const spacingMs = options.startSpacingMs ?? (options.concurrencyCap ? 200 : 0);
  const worker = async (slot: number) => {
    if (spacingMs > 0) await sleep(slot * spacingMs);
    while (next < options.calls && Date.now() < stopStartingAt) {
      const plan = planCall(options.seed, next++);
      const record = await runCall(chaos, plan, options.timeScale);
      records.push(record);
      finished += 1;
      if (finished % 25 === 0 || finished === options.calls) {
        const injected = chaos.stack.emulator.faults.report().injected.total + backendFaults(chaos.backend);
        log(
          `chaos: ${finished}/${options.calls} calls done, ${injected} faults injected, ${Math.round((Date.now() - began) / 1000)} s`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, (_, slot) => worker(slot)));
  return records;
}

/** The faults injected so far, in Twilio's API (the emulator) and in the backend. */
function faultsOf(chaos: ChaosStack): ChaosReport['faults'] {
  const emulatorFaults = chaos.stack.emulator.faults.report().injected;
  const backendTotal = backendFaults(chaos.backend);
  return {
    total: emulatorFaults.total + backendTotal,
    emulator: emulatorFaults.total,
    backend: backendTotal,
    byKind: {
      ...emulatorFaults.byKind,
      ...Object.fromEntries(Object.entries(chaos.backend.faultsInjected).map(([k, v]) => [`backend ${k}`, v])),
    },
  };
}

/** The gate's figures the report keeps. */
function capacityOf(stats: ConcurrencyStats): ChaosReport['capacity'] {
  const { cap, refused, refusedByPath, peakInFlight, total, executionMs } = stats;
  return { cap, refused, refusedByPath, peakInFlight, total, executionMs };
}

/** How the flows ended, by kind (`no-run` when the runner threw). */
function flowEndCounts(records: CallRecord[]): Record<string, number> {
  const flowEnds: Record<string, number> = {};
  for (const record of records) {
    const kind = record.run?.end.kind ?? 'no-run';
    flowEnds[kind] = (flowEnds[kind] ?? 0) + 1;
  }
  return flowEnds;
}

/** Runs the calls (at most `concurrency` at once) and checks the run. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const began = Date.now();
  const chaos = await startChaosStack(options.behaviour, options.concurrencyCap ?? 0);
  try {
    chaos.stack.emulator.faults.configure(chaosFaults(options.seed, options.faultScale ?? 1));
    const records = await runCalls(chaos, options, began);
    // Counted before the check: it clears the emulator's faults.
    const faults = faultsOf(chaos);
    log(`chaos: all calls done; checking (waiting for the last deadlines to pass)`);
    const capacity = capacityOf(chaos.stack.gate!.stats());
    const checked = await checkRun(chaos, records, options.timeScale);
    return {
      seed: options.seed,
      profile: chaos.behaviour.name,
      calls: records.length,
      durationMs: Date.now() - began,
      faults,
      jobs: checked.jobs,
      outcomes: checked.outcomes,
      flowEnds: flowEndCounts(records),
      maxHeldPastDeadlineMs: checked.maxHeldPastDeadlineMs,
      holdBoundMs: checked.holdBoundMs,
      studioRequests: checked.studio,
      capacity,
      strandedByRefusedTurn: checked.strandedByRefusedTurn,
      violations: checked.violations,
    };
  } finally {
    await chaos.stop();
  }
}

function backendFaults(backend: ExampleBackend): number {
  return Object.values(backend.faultsInjected).reduce((sum, n) => sum + n, 0);
}

/** The one-line summary a run ends with. */
export function summaryLine(report: ChaosReport, inputs?: number): string {
  return (
    `chaos summary: seed=${report.seed} calls=${report.calls} jobs=${report.jobs} faults=${report.faults.total} ` +
    `(twilio=${report.faults.emulator} backend=${report.faults.backend})` +
    (inputs !== undefined ? ` inputs=${inputs}` : '') +
    ` refused=${report.capacity.refused} cap=${report.capacity.cap ?? 'none'}` +
    ` violations=${report.violations.length} profile=${report.profile} duration=${Math.round(report.durationMs / 1000)}s`
  );
}
