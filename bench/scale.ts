/**
 * Part 5: how many jobs per second the embedded default (the simulated backend, no BACKEND_URL)
 * carries end to end without an error, and whether any Sync document is written by more than
 * one job (a shared hot document would hit Sync's 20 writes/s per object).
 *
 * Open loop: jobs arrive at a fixed rate for a few seconds per step, the rate grows step by step
 * until a step has an error, a start reply over START_GOAL_MS (bench/goals.ts), or falls behind.
 * Every job is a whole call: start, hold, join the room, a pending wait turn, the work finishes,
 * the next wait turn releases the caller (the room's leave callback follows), the Dial action
 * returns to Studio, the result is read. The hold loop period is shortened to
 * SCALE_LOOP_PERIOD_MS (bench/settings.ts) so a step takes seconds; the requests per job are the
 * same as a call released on its second turn.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { START_GOAL_MS } from './goals';
import { SCALE_LOOP_PERIOD_MS } from './settings';
import { summarize, type Summary } from './lib/stats';
import { attribute, FLOW_SID, newCallSid, pathOf, redirectTarget, type BenchStack } from './lib/stack';

export interface ScaleStep {
  mode: BenchStack['mode'];
  offeredPerSecond: number;
  jobs: number;
  completed: number;
  /** Jobs whose work was done before /hold was asked: Studio went on without holding the caller. */
  notHeld: number;
  errors: number;
  errorSamples: string[];
  /** From the first arrival to the last job's result. */
  elapsedSeconds: number;
  start: Summary;
  endToEnd: Summary;
  ok: boolean;
  verdict: string;
}

export interface DocumentCheck {
  documentsWritten: number;
  jobsStarted: number;
  /** Documents whose writes came from more than one job (by name and content). */
  sharedDocuments: string[];
  /** Documents not named after a job of the run. */
  foreignDocuments: string[];
  maxWritesPerDocument: number;
  /** Most writes one document got within any one second. */
  maxWritesPerDocumentPerSecond: number;
}

export interface ScaleResult {
  mode: BenchStack['mode'];
  steps: ScaleStep[];
  sustainedPerSecond: number;
  /** The highest rate tried passed too (or time ran out first): the service can take more. */
  atLeast: boolean;
  documents: DocumentCheck;
}

interface JobOutcome {
  jobId?: string;
  startMs: number;
  totalMs: number;
  held?: boolean;
  error?: string;
}

async function readResult(
  stack: BenchStack,
  jobId: string,
  startMs: number,
  began: number,
  held: boolean,
): Promise<JobOutcome> {
  const result = await stack.post('/jobs/result', { jobId });
  if (result.status !== 200 || result.body?.status !== 'COMPLETED')
    return { jobId, startMs, totalMs: 0, error: `result ${result.status} ${result.text.slice(0, 120)}` };
  return { jobId, startMs, totalMs: performance.now() - began, held };
}

/** One whole call (a job finished while the caller was still in Studio skips the hold, as in a flow). */
async function oneJob(stack: BenchStack, index: number): Promise<JobOutcome> {
  const began = performance.now();
  let jobId: string | undefined;
  try {
    const start = await stack.post('/jobs/start', { task: 'scale', n: index, simulateSeconds: 1 });
    if (start.status !== 200 || start.body?.status !== 'PENDING')
      return { startMs: start.ms, totalMs: 0, error: `start ${start.status} ${start.text.slice(0, 120)}` };
    jobId = String(start.body.jobId);
    const callSid = newCallSid();
    const hold = await stack.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid });
    if (hold.text.includes('FlowEvent=return')) return await readResult(stack, jobId, start.ms, began, false);
    if (!hold.text.includes('<Dial'))
      return { jobId, startMs: start.ms, totalMs: 0, error: `hold ${hold.status} ${hold.text.slice(0, 120)}` };
    await stack.join(`hold_${jobId}`, callSid, { statusCallback: attribute(hold.text, 'statusCallback') });
    const released = stack.released(callSid, 20_000);
    let next = pathOf(attribute(hold.text, 'waitUrl')!);
    let outcome: Awaited<typeof released> | undefined;
    for (let turn = 0; turn < 6 && !outcome; turn++) {
      const answer = await stack.post(next);
      if (answer.status !== 200)
        return { jobId, startMs: start.ms, totalMs: 0, error: `wait ${answer.status} ${answer.text.slice(0, 120)}` };
      next = redirectTarget(answer.text);
      outcome = await Promise.race([released, sleep(SCALE_LOOP_PERIOD_MS).then(() => undefined)]);
    }
    outcome ??= await released;
    if (!outcome.released) return { jobId, startMs: start.ms, totalMs: 0, error: 'caller not released' };
    const after = await stack.post(pathOf(attribute(hold.text, 'action')!));
    if (!after.text.includes('FlowEvent=return'))
      return { jobId, startMs: start.ms, totalMs: 0, error: `after hold ${after.status} ${after.text.slice(0, 120)}` };
    return await readResult(stack, jobId, start.ms, began, true);
  } catch (error) {
    return { jobId, startMs: 0, totalMs: 0, error: (error as Error).message };
  }
}

async function runStep(stack: BenchStack, rate: number, seconds: number, jobIds: Set<string>): Promise<ScaleStep> {
  const count = Math.max(1, Math.round(rate * seconds));
  const began = performance.now();
  const runs: Promise<JobOutcome>[] = [];
  for (let i = 0; i < count; i++) {
    const due = began + (i * 1000) / rate;
    await sleep(due - performance.now());
    runs.push(oneJob(stack, i));
  }
  const outcomes = await Promise.all(runs);
  const elapsed = (performance.now() - began) / 1000;
  for (const outcome of outcomes) if (outcome.jobId) jobIds.add(outcome.jobId);
  const failed = outcomes.filter((o) => o.error);
  const ok = outcomes.filter((o) => !o.error);
  const start = summarize(ok.map((o) => o.startMs));
  const endToEnd = summarize(ok.map((o) => o.totalMs));
  // A call lasts about two loop periods plus its requests; a step that needed much longer than
  // its arrivals plus one call fell behind.
  const behind = elapsed > seconds + (2 * SCALE_LOOP_PERIOD_MS) / 1000 + 6;
  const verdict =
    failed.length > 0
      ? `${failed.length} failed`
      : start.p99 > START_GOAL_MS
        ? `start p99 ${start.p99} ms > ${START_GOAL_MS}`
        : behind
          ? 'fell behind'
          : 'ok';
  return {
    mode: stack.mode,
    offeredPerSecond: rate,
    jobs: count,
    completed: ok.length,
    notHeld: ok.filter((o) => o.held === false).length,
    errors: failed.length,
    errorSamples: [...new Set(failed.map((o) => o.error!))].slice(0, 3),
    elapsedSeconds: Math.round(elapsed * 10) / 10,
    start,
    endToEnd,
    ok: verdict === 'ok',
    verdict,
  };
}

/** Sync writes seen by the latency proxy during the run, grouped by document. */
function checkDocuments(stack: BenchStack, since: number, jobIds: Set<string>): DocumentCheck {
  const writes = stack.proxy.records.slice(since).filter((r) => r.document !== undefined && r.status < 300);
  const byDocument = new Map<string, number[]>();
  for (const write of writes) {
    const list = byDocument.get(write.document!) ?? [];
    list.push(write.start);
    byDocument.set(write.document!, list);
  }
  const sharedDocuments: string[] = [];
  const foreignDocuments: string[] = [];
  let maxWritesPerDocument = 0;
  let maxPerSecond = 0;
  for (const [document, times] of byDocument) {
    // Job documents are job_<jobId>, result chunks job_<jobId>_r<attempt>_<n>: exactly one job each.
    const owners = [...jobIds].filter((jobId) => document.includes(jobId));
    if (owners.length === 0) foreignDocuments.push(document);
    if (owners.length > 1) sharedDocuments.push(document);
    maxWritesPerDocument = Math.max(maxWritesPerDocument, times.length);
    times.sort((a, b) => a - b);
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      maxPerSecond = Math.max(maxPerSecond, i - j + 1);
    }
  }
  return {
    documentsWritten: byDocument.size,
    jobsStarted: jobIds.size,
    sharedDocuments,
    foreignDocuments,
    maxWritesPerDocument,
    maxWritesPerDocumentPerSecond: maxPerSecond,
  };
}

export async function measureScale(
  stack: BenchStack,
  options: { rates: number[]; stepSeconds: number; deadline: number },
): Promise<ScaleResult> {
  const since = stack.proxy.records.length;
  const jobIds = new Set<string>();
  const steps: ScaleStep[] = [];
  for (const rate of options.rates) {
    // A step must fit before the deadline: arrivals plus the slowest call.
    if (Date.now() + (options.stepSeconds + 15) * 1000 > options.deadline) break;
    const step = await runStep(stack, rate, options.stepSeconds, jobIds);
    steps.push(step);
    if (!step.ok) break;
    await sleep(1000);
  }
  const sustained = steps.filter((s) => s.ok).reduce((best, s) => Math.max(best, s.offeredPerSecond), 0);
  const atLeast = steps.length > 0 && steps.every((s) => s.ok);
  return {
    mode: stack.mode,
    steps,
    sustainedPerSecond: sustained,
    atLeast,
    documents: checkDocuments(stack, since, jobIds),
  };
}
