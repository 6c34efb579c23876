/**
 * Part 6: capacity under the platform's concurrency cap (30 executions per service), against the
 * warm stack with the local function host's cap switched on, 80 ms per Twilio call.
 *
 * - Held voice callers: callers are put on hold level by level (their jobs stay pending) and
 *   each one fetches its waitUrl once per music loop, as Twilio does while the music plays.
 *   A level is sustained when no invocation was refused and the turn p99 stayed under
 *   TURN_P99_GOAL_MS (bench/goals.ts).
 * - Messaging conversations: conversations start together and wait for work that takes longer
 *   than their arrival. The current flow ends after "working on it"; the completion starts the
 *   flow again through Studio's Executions API. Side by side: the long-poll design (the flow
 *   waits on /jobs/status, which each waiting conversation holds open), which poll and
 *   simulated jobs still use.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CONVERSATIONS_GOAL, HELD_CALLERS_GOAL, TURN_P99_GOAL_MS } from './goals';
import type { PhaseCount, RoundTripResults } from './round-trips';
import { LONG_POLL_SECONDS, MESSAGING_START_WAIT, SERVICE_NUMBER } from './lib/messaging-flow';
import { summarize, pool, type Summary } from './lib/stats';
import { attribute, FLOW_SID, newCallSid, pathOf, redirectTarget, type Answer, type BenchStack } from './lib/stack';

export interface HoldLevel {
  callers: number;
  turns: number;
  refused: number;
  errors: number;
  turn: Summary;
  /** Most function executions in flight at once during the level (the host's count). */
  peakInFlight: number;
  ok: boolean;
}

export interface ConversationLevel {
  design: 'execution' | 'long-poll';
  conversations: number;
  delivered: number;
  refused: number;
  errors: number;
  errorSamples: string[];
  peakInFlight: number;
  /** From the first start to the last delivery. */
  elapsedSeconds: number;
  ok: boolean;
}

export interface CapacityOptions {
  cap: number;
  musicSeconds: number;
  holdLevels: number[];
  /** How long each hold level runs once all its callers are on hold. */
  holdLevelSeconds: number;
  conversationLevels: number[];
  longPollLevels: number[];
  /** How long a conversation's work takes (longer than all arrivals, so they overlap). */
  workMs: number;
  deadline: number;
}

const REFUSED = 429;
const isRefused = (answer: Answer) => answer.status === REFUSED;

interface HeldCaller {
  callSid: string;
  next: string;
}

/** A caller on hold for a job that stays pending (simulated work of an hour). */
async function holdOne(stack: BenchStack, index: number): Promise<HeldCaller> {
  for (let attempt = 0; ; attempt++) {
    const start = await stack.post('/jobs/start', {
      task: 'capacity',
      n: index,
      simulateSeconds: 3000,
      maxHoldSeconds: 3600,
    });
    if (isRefused(start) && attempt < 20) {
      await sleep(1000);
      continue;
    }
    if (start.status !== 200) throw new Error(`start ${start.status} ${start.text.slice(0, 120)}`);
    const callSid = newCallSid();
    for (let holdAttempt = 0; ; holdAttempt++) {
      const hold = await stack.post(`/hold?jobId=${start.body.jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid });
      if (isRefused(hold) && holdAttempt < 20) {
        await sleep(1000);
        continue;
      }
      const waitUrl = attribute(hold.text, 'waitUrl');
      if (!waitUrl) throw new Error(`hold ${hold.status} ${hold.text.slice(0, 120)}`);
      return { callSid, next: pathOf(waitUrl) };
    }
  }
}

/** Every caller fetches its next turn one music loop after the last answer, until `until`. */
async function playTurns(stack: BenchStack, callers: HeldCaller[], musicMs: number, until: number) {
  const samples: number[] = [];
  let refused = 0;
  let errors = 0;
  await Promise.all(
    callers.map(async (caller, index) => {
      // Callers joined at different moments: spread their first turn over one loop.
      await sleep((index / callers.length) * musicMs);
      while (Date.now() < until) {
        const answer = await stack.post(caller.next, { CallSid: caller.callSid });
        samples.push(answer.ms);
        if (isRefused(answer)) refused++;
        else if (answer.status !== 200 || !answer.text.includes('<Redirect')) errors++;
        else caller.next = redirectTarget(answer.text);
        await sleep(musicMs);
      }
    }),
  );
  return { samples, refused, errors };
}

export async function measureHeldCallers(stack: BenchStack, options: CapacityOptions): Promise<HoldLevel[]> {
  const callers: HeldCaller[] = [];
  const levels: HoldLevel[] = [];
  for (const level of options.holdLevels) {
    const budgetMs = options.holdLevelSeconds * 1000 + (level - callers.length) * 30 + 5_000;
    if (Date.now() + budgetMs > options.deadline) break;
    // Put the new callers on hold at a pace that keeps set-up itself under the cap.
    const added = await pool(level - callers.length, Math.max(1, Math.floor(options.cap / 3)), (i) =>
      holdOne(stack, callers.length + i),
    );
    callers.push(...added);
    stack.resetGate();
    const { samples, refused, errors } = await playTurns(
      stack,
      callers,
      options.musicSeconds * 1000,
      Date.now() + options.holdLevelSeconds * 1000,
    );
    const gate = stack.gate();
    const turn = summarize(samples);
    const refusedAll = Math.max(refused, gate?.refused ?? 0);
    const ok = refusedAll === 0 && errors === 0 && turn.p99 < TURN_P99_GOAL_MS;
    levels.push({
      callers: level,
      turns: samples.length,
      refused: refusedAll,
      errors,
      turn,
      peakInFlight: gate?.peakInFlight ?? 0,
      ok,
    });
    if (!ok) break;
  }
  return levels;
}

/** A contact per conversation of the whole run: a contact's earlier execution would be a clash. */
let contactsUsed = 0;
const newContact = () => `+1555${String(1_000_000 + contactsUsed++).slice(-7)}`;

/** A conversation's first message: a push job done after `workMs`, plus the design's own parameters. */
function startConversation(
  stack: BenchStack,
  index: number,
  workMs: number,
  extra: Record<string, string> = {},
): Promise<Answer> {
  return stack.post('/jobs/start', {
    wait: MESSAGING_START_WAIT,
    task: 'capacity',
    message: `question ${index}`,
    benchMode: 'push',
    completeAfterMs: workMs,
    maxHoldSeconds: Math.ceil(workMs / 1000) + 60,
    ...extra,
  });
}

/** The current design: start with the notify parameters, end the flow; the completion starts the flow again. */
async function conversationByExecution(
  stack: BenchStack,
  flowSid: string,
  index: number,
  contact: string,
  workMs: number,
): Promise<{ refused: number; jobId?: string; error?: string }> {
  const start = await startConversation(stack, index, workMs, {
    notifyFlowSid: flowSid,
    notifyTo: contact,
    notifyFrom: SERVICE_NUMBER,
  });
  if (isRefused(start)) return { refused: 1, error: 'start refused' };
  if (start.status !== 200 || start.body?.status !== 'PENDING' || start.body?.delivery !== 'execution') {
    return { refused: 0, error: `start ${start.status} ${start.text.slice(0, 120)}` };
  }
  return { refused: 0, jobId: String(start.body.jobId) };
}

/** The long-poll design: the flow waits on /jobs/status (its wait_for_job wait) until the job is final, then reads the result. */
async function conversationByLongPoll(
  stack: BenchStack,
  index: number,
  workMs: number,
): Promise<{ refused: number; error?: string }> {
  let refused = 0;
  const start = await startConversation(stack, index, workMs);
  if (isRefused(start)) return { refused: 1, error: 'start refused' };
  const jobId = String(start.body?.jobId);
  for (let polls = 0; polls < 20; polls++) {
    const status = await stack.post('/jobs/status', { jobId, wait: LONG_POLL_SECONDS });
    if (isRefused(status)) {
      // Run Function's fail path: the flow counts the poll and asks again.
      refused++;
      continue;
    }
    if (status.body?.status === 'COMPLETED') {
      const result = await stack.post('/jobs/result', { jobId });
      if (isRefused(result)) refused++;
      return result.status === 200 ? { refused } : { refused, error: `result ${result.status}` };
    }
    if (status.body?.status !== 'PENDING')
      return { refused, error: `status ${status.status} ${status.text.slice(0, 120)}` };
  }
  return { refused, error: 'still pending after 20 polls' };
}

async function conversationLevel(
  stack: BenchStack,
  flowSid: string,
  design: ConversationLevel['design'],
  count: number,
  options: CapacityOptions,
): Promise<ConversationLevel> {
  const began = Date.now();
  stack.resetGate();
  const arrivalsMs = Math.min(options.workMs / 2, count * 20);
  const outcomes = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      await sleep((index / count) * arrivalsMs);
      if (design === 'long-poll') return conversationByLongPoll(stack, index, options.workMs);
      const contact = newContact();
      const started = await conversationByExecution(stack, flowSid, index, contact, options.workMs);
      if (!started.jobId) return started;
      const delivered = await stack.executionFor(flowSid, contact, options.workMs + 20_000);
      if (!delivered) return { ...started, error: 'no execution started for the result' };
      return delivered.data.jobId === started.jobId
        ? started
        : { ...started, error: 'the execution carries another job' };
    }),
  );
  const gate = stack.gate();
  const errors = outcomes.filter((o) => o.error);
  const refused = Math.max(
    outcomes.reduce((sum, o) => sum + o.refused, 0),
    gate?.refused ?? 0,
  );
  return {
    design,
    conversations: count,
    delivered: count - errors.length,
    refused,
    errors: errors.length,
    errorSamples: [...new Set(errors.map((o) => o.error!))].slice(0, 3),
    peakInFlight: gate?.peakInFlight ?? 0,
    elapsedSeconds: Math.round((Date.now() - began) / 100) / 10,
    ok: errors.length === 0 && refused === 0,
  };
}

export async function measureConversations(
  stack: BenchStack,
  flowSid: string,
  options: CapacityOptions,
): Promise<ConversationLevel[]> {
  const levels: ConversationLevel[] = [];
  for (const [design, counts] of [
    ['long-poll', options.longPollLevels],
    ['execution', options.conversationLevels],
  ] as const) {
    for (const count of counts) {
      if (Date.now() + options.workMs + 10_000 > options.deadline) break;
      const level = await conversationLevel(stack, flowSid, design, count, options);
      levels.push(level);
      if (!level.ok) break;
    }
  }
  return levels;
}

/** The largest level that passed (0 when none did). */
export function sustained<T extends { ok: boolean }>(levels: T[], size: (level: T) => number): number {
  return levels.filter((l) => l.ok).reduce((best, l) => Math.max(best, size(l)), 0);
}

/** Function invocations, execution time and Twilio API calls of one job, fixed and per held (or waiting) minute. */
export interface JobFootprint {
  channel: 'voice' | 'messaging';
  mode: string;
  invocations: number;
  executionSeconds: number;
  twilioCalls: number;
  syncCalls: number;
  perMinute: { invocations: number; executionSeconds: number; twilioCalls: number; syncCalls: number };
  studioExecutions: number;
  callUpdates: number;
}

export interface CapacityResults {
  concurrencyCap: number;
  /** Held callers sustained with no refused invocation and the turn p99 under TURN_P99_GOAL_MS. */
  heldCallers: number;
  heldCallersAtLeast: boolean;
  turnP99Ms: number;
  /** Concurrent conversations sustained by the Executions path, none refused. */
  messagingConversations: number;
  messagingConversationsAtLeast: boolean;
  /** The same by the long-poll path (today's design for poll and simulated jobs). */
  longPollConversations: number;
  /** Refused invocations at the levels reported as sustained. */
  refused: number;
  holdLevels: HoldLevel[];
  conversationLevels: ConversationLevel[];
  footprints: JobFootprint[];
  /** Goals missed, with the reason. */
  missed: string[];
}

export function capacitySummary(
  cap: number,
  holdLevels: HoldLevel[],
  conversationLevels: ConversationLevel[],
  footprints: JobFootprint[],
): CapacityResults {
  const heldCallers = sustained(holdLevels, (l) => l.callers);
  const byExecution = conversationLevels.filter((l) => l.design === 'execution');
  const byLongPoll = conversationLevels.filter((l) => l.design === 'long-poll');
  const messagingConversations = sustained(byExecution, (l) => l.conversations);
  const heldLevel = holdLevels.find((l) => l.ok && l.callers === heldCallers);
  const messagingLevel = byExecution.find((l) => l.ok && l.conversations === messagingConversations);
  const missed: string[] = [];
  const failedHold = holdLevels.find((l) => !l.ok);
  if (heldCallers < HELD_CALLERS_GOAL) {
    missed.push(
      `held callers ${heldCallers} < ${HELD_CALLERS_GOAL}${failedHold ? `: at ${failedHold.callers}, ${failedHold.refused} refused, turn p99 ${failedHold.turn.p99} ms, ${failedHold.errors} errors` : ': time ran out'}`,
    );
  }
  const failedMessaging = byExecution.find((l) => !l.ok);
  if (messagingConversations < CONVERSATIONS_GOAL) {
    missed.push(
      `conversations ${messagingConversations} < ${CONVERSATIONS_GOAL}${failedMessaging ? `: at ${failedMessaging.conversations}, ${failedMessaging.refused} refused, ${failedMessaging.errors} errors (${failedMessaging.errorSamples.join('; ')})` : ': time ran out'}`,
    );
  }
  return {
    concurrencyCap: cap,
    heldCallers,
    heldCallersAtLeast: holdLevels.length > 0 && holdLevels.every((l) => l.ok),
    turnP99Ms: heldLevel?.turn.p99 ?? Number.NaN,
    messagingConversations,
    messagingConversationsAtLeast: byExecution.length > 0 && byExecution.every((l) => l.ok),
    longPollConversations: sustained(byLongPoll, (l) => l.conversations),
    refused: (heldLevel?.refused ?? 0) + (messagingLevel?.refused ?? 0),
    holdLevels,
    conversationLevels,
    footprints,
    missed,
  };
}

const callsMatching = (phases: PhaseCount[], test: (name: string) => boolean) =>
  phases.reduce((sum, p) => sum + Object.entries(p.calls).reduce((a, [name, n]) => a + (test(name) ? n : 0), 0), 0);
const isSync = (name: string) => name.startsWith('sync.');
const round1 = (value: number) => Math.round(value * 10) / 10;

/** Per-job footprints from the round-trip measurements (run with a counting gate). */
export function footprintsFrom(rt: RoundTripResults, musicSeconds: number): JobFootprint[] {
  const turnsPerMinute = 60 / musicSeconds;
  const out: JobFootprint[] = [];
  for (const s of rt.scenarios) {
    if (s.invocations === undefined || s.scenario.includes('KB')) continue;
    const turn = s.phases.find((p) => p.phase === 'wait turn (pending)');
    const fixed = s.phases.filter((p) => p !== turn);
    out.push({
      channel: 'voice',
      mode: s.scenario,
      invocations: s.invocations,
      executionSeconds: round1((s.executionMs ?? 0) / 1000),
      twilioCalls: s.fixedTotal,
      syncCalls: callsMatching(fixed, isSync),
      perMinute: {
        invocations: round1(turnsPerMinute),
        executionSeconds: round1((turnsPerMinute * (s.executionMsPerPendingTurn ?? 0)) / 1000),
        twilioCalls: round1(turnsPerMinute * s.perPendingTurn),
        syncCalls: round1(turnsPerMinute * (turn ? callsMatching([turn], isSync) : 0)),
      },
      studioExecutions: 1,
      callUpdates: callsMatching(fixed, (name) => name === 'api.calls.update'),
    });
  }
  for (const s of rt.messaging ?? []) {
    if (s.invocations === undefined) continue;
    const poll = s.phases.find((p) => p.phase === 'status (long-poll)');
    const pollSeconds = poll?.executionMs ? poll.executionMs / 1000 : 0;
    out.push({
      channel: 'messaging',
      mode: s.scenario.replace('messaging, ', ''),
      invocations: s.invocations,
      executionSeconds: round1((s.executionMs ?? 0) / 1000),
      twilioCalls: s.fixedTotal,
      syncCalls: callsMatching(s.phases, isSync),
      // Nothing runs while an Executions-path job works; a long-poll holds an execution all along.
      perMinute: poll
        ? {
            invocations: 60 / LONG_POLL_SECONDS,
            executionSeconds: 60,
            twilioCalls: pollSeconds ? round1((poll.total / pollSeconds) * 60) : 0,
            syncCalls: pollSeconds ? round1((callsMatching([poll], isSync) / pollSeconds) * 60) : 0,
          }
        : { invocations: 0, executionSeconds: 0, twilioCalls: 0, syncCalls: 0 },
      studioExecutions: s.scenario.includes('execution') ? 2 : 1,
      callUpdates: 0,
    });
  }
  return out;
}
