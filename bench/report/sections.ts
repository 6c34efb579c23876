/**
 * The report's sections, one per part of the run: what was measured and how, the tables, and
 * what the figures mean.
 */
import type { CapacityResults } from '../capacity';
import { START_GOAL_MS, SYNC_WRITES_PER_SECOND_LIMIT } from '../goals';
import type { RoundTripResults, ScenarioTrips } from '../round-trips';
import { LOOP_RELEASE_CALLERS, SCALE_LOOP_PERIOD_MS } from '../settings';
import { kib, ms, table, yes } from './markdown';
import { leaveCalls, type BenchResults } from './results';

export function roundTripSection(rt: RoundTripResults): string {
  const scenarios: ScenarioTrips[] = [...rt.scenarios];
  const phases = [...new Set(scenarios.flatMap((s) => s.phases.map((p) => p.phase)))];
  const cell = (s: ScenarioTrips, phase: string) => {
    const hit =
      s.phases.find((p) => p.phase === phase) ??
      (phase === 'completion' ? s.phases.find((p) => p.phase === 'completion (wait turn)') : undefined) ??
      (phase === 'completion (wait turn)' ? s.phases.find((p) => p.phase === 'completion') : undefined);
    return hit ? `${hit.total} (${hit.criticalPath})` : '–';
  };
  const rowsFor = phases.filter((p) => p !== 'completion (wait turn)');
  const rows = rowsFor.map((phase) => [
    phase === 'completion' ? 'completion (push: /jobs/complete; poll, simulated: the wait turn that sees it)' : phase,
    ...scenarios.map((s) => cell(s, phase)),
  ]);
  rows.push([
    '**per job** (+ per pending turn)',
    ...scenarios.map((s) => `**${s.fixedTotal}** (+${s.perPendingTurn})`),
  ]);
  rows.push(['floor', ...scenarios.map((s) => String(s.floor))]);
  const b = rt.baseline;
  const baselineRows = b.phases.map((p) => [
    p.phase,
    p.request,
    `${p.total} (${p.criticalPath})`,
    p.chain.join(' → ') || '–',
  ]);
  const chains = scenarios
    .flatMap((s) =>
      s.phases.filter((p) => p.criticalPath > 1).map((p) => `- ${s.scenario}, ${p.phase}: ${p.chain.join(' → ')}`),
    )
    .filter((line, i, all) => all.indexOf(line) === i);
  return [
    `Counted by the emulator (\`stats()\`), one job at a time, each request driven the way Studio and Twilio drive it. A cell is \`calls (critical path)\`: the critical path is how many of those calls the request made one after the other (from the latency proxy's timings), which is what it waits for at ${rt.latencyMs} ms a call. Pending hold-loop turns come on top, one every loop period while the caller waits.`,
    '',
    table(['phase', ...scenarios.map((s) => s.scenario)], rows),
    '',
    'Requests that wait for more than one call in a row:',
    '',
    ...chains,
    '',
    `Naive baseline (bench/baseline/: the 2020 Studio sample's approach, served by twilio-run against the same emulator):`,
    '',
    table(['phase', 'request', 'calls (critical path)', 'chain'], baselineRows),
    '',
    `Baseline per job: **${b.fixedTotal}** calls, 0 per hold turn. ${b.notes.map((n) => `${n.charAt(0).toUpperCase()}${n.slice(1)}.`).join(' ')}`,
    '',
    'The floor is one Sync write to create the job, one to finalize it, one call redirect to release the caller and one read for the result (two more per 16 KiB chunk of a large result: its write and its read). Where ours is above it, and why:',
    '',
    "- `/hold` reads the job, to send a caller whose job is already done straight back to Studio, and writes the caller's CallSid on it, so a completion can redirect their call with no lookup. The after-hold URL a released call is redirected to carries the final status, so it reads nothing.",
    '- `/jobs/complete` reads the job before writing it: the write carries `If-Match` (revision) so a completion, the deadline and a hang-up cannot overwrite each other, and the read also refuses late completions and acknowledges duplicates.',
    "- The release is one Calls API update (the caller's call moved to the after-hold URL), sent while the final status is written: no conference lookup, whatever state the room is in. Ending the room is only a second try.",
    leaveCalls(rt) > 0
      ? "- The room's `leave` status callback reads the job once; only for a pending job does it read the Call too (its status tells a hang-up from a move), which is how a hang-up cancels the job."
      : "- The room's `leave` status callback costs nothing when the caller's call is still in progress (the room ended because the job did); only a hang-up reads and cancels the job.",
    '- Each pending hold-loop turn reads the job once (poll mode: and asks the backend when due). That read is what releases a caller whose completion came before they joined, and what applies the deadline.',
    "- Poll mode writes once more at start, to record the backend's status URL.",
  ].join('\n');
}

export function startSection(results: BenchResults): string {
  const rows = results.startLatency.map((r) => [
    r.mode,
    r.backend,
    String(r.concurrency),
    String(r.summary.n),
    ms(r.summary.p50),
    ms(r.summary.p95),
    ms(r.summary.p99),
    ms(r.summary.max),
    ms(r.floorMs),
    `${r.p50OverFloor}x / ${r.p99OverFloor}x`,
    String(r.errors),
  ]);
  return [
    `Each caller starts a job, waits for the reply, starts the next (closed loop). ${results.settings.latencyMs} ms per Twilio call; the backend answers the dispatch after ${results.settings.backendAcceptMs} ms, or never (the service gives up after DISPATCH_TIMEOUT_MS = ${results.settings.dispatchTimeoutMs} ms and keeps the job pending). The floor is what /jobs/start cannot avoid: one Sync write (${results.settings.latencyMs} ms) plus the backend's ${results.settings.backendAcceptMs} ms, or plus the dispatch timeout when it hangs. Errors include replies slower than the client's 30 s limit.`,
    '',
    "`fork` is twilio-run's default: every request runs in a freshly forked node process that loads the runtime and the helper library first. `warm` is `--no-fork-process --no-live`: every request runs in one long-lived process with the function loaded once, which is how the platform serves a warm instance. Production numbers sit near the warm rows; the fork rows say what twilio-run costs locally.",
    '',
    table(
      [
        'mode',
        'backend',
        'callers',
        'n',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'floor ms',
        'p50 / p99 over floor',
        'errors',
      ],
      rows,
    ),
  ].join('\n');
}

export function releaseSection(results: BenchResults): string {
  const rows = results.release.map((r) => {
    const isLoop = r.case.startsWith('poll') || r.case.startsWith('simulated');
    const fmt = (v: number) => (isLoop ? `${(v / 1000).toFixed(2)} s` : `${ms(v)} ms`);
    const first = r.releasedByFirstTurn === undefined ? '–' : `${r.releasedByFirstTurn} of ${r.summary.n}`;
    return [
      r.case,
      r.mode,
      String(r.summary.n),
      fmt(r.summary.p50),
      fmt(r.summary.p95),
      fmt(r.summary.max),
      r.goal,
      first,
      String(r.failures),
    ];
  });
  const push = results.release.find((r) => r.case.startsWith('push') && r.mode === 'warm');
  const baseline = results.release.find((r) => r.case.startsWith('baseline'));
  const versus =
    push && baseline
      ? ` After a push completion the caller now waits about as long as with the naive baseline's two conference calls (p50 ${ms(push.summary.p50)} ms against ${ms(baseline.summary.p50)} ms), although the job's outcome is stored first.`
      : '';
  return [
    `Push: from the backend sending its completion to the emulator's \`released\` long-poll answering (the caller leaves the room). Poll and simulated: ${LOOP_RELEASE_CALLERS} callers at once, each job ready at a different point of the loop; the hold loop is driven as Twilio drives it (a turn, then the ${results.settings.musicSeconds.toFixed(1)} s of music, then the next turn); latency from the work being ready to the release. The latency proxy spends half of each call's ${results.settings.latencyMs} ms on the way in and half on the way out, so a conference ended by REST is ended half a round trip into the call.`,
    '',
    table(
      ['case', 'mode', 'n', 'p50', 'p95', 'max', 'goal', 'released by the first turn after ready', 'failures'],
      rows,
    ),
    ...(versus ? ['', versus.trim()] : []),
  ].join('\n');
}

export function coldSection(results: BenchResults): string {
  const rows = results.coldStart.map((r) => [
    r.file,
    kib(r.bytes),
    kib(r.thirdPartyBytes),
    ms(r.bare.load.p50),
    ms(r.bare.firstCall.p50),
    ms(r.bare.process.p50),
    ms(r.runtime.preload.p50),
    ms(r.runtime.load.p50),
    ms(r.runtime.firstCall.p50),
  ]);
  return [
    "Each built function (the copy of `dist/functions` the run serves) in a fresh node process, medians of 5 runs. `load` is `require()` of the bundle; `first request` is one call of its handler up to its callback (one Sync read against the emulator, no injected latency; `/jobs/complete` refuses an unsigned request before any call). `bare`: nothing loaded before. `runtime`: the helper library loaded first, as Twilio's runtime does to build the global `Twilio` before it loads any function (twilio-run's own runtime does the same in every forked process); `helper` is what that costs, once per instance, whatever the function.",
    '',
    table(
      [
        'function',
        'KiB',
        'KiB from node_modules',
        'bare load ms',
        'bare first request ms',
        'bare process total ms',
        'helper (runtime) ms',
        'runtime load ms',
        'runtime first request ms',
      ],
      rows,
    ),
  ].join('\n');
}

export function scaleSection(results: BenchResults): string {
  const rows = results.scale.flatMap((scale) =>
    scale.steps.map((s) => [
      scale.mode,
      String(s.offeredPerSecond),
      String(s.jobs),
      String(s.errors),
      String(s.notHeld ?? '–'),
      `${ms(s.start.p50)} / ${ms(s.start.p99)}`,
      `${(s.endToEnd.p50 / 1000).toFixed(1)} / ${(s.endToEnd.p99 / 1000).toFixed(1)}`,
      s.verdict + (s.errorSamples.length ? ` (${s.errorSamples[0]!.slice(0, 80).replace(/\|/g, '/')})` : ''),
    ]),
  );
  const docs = results.scale.map(
    (scale) =>
      `- ${scale.mode}: **${scale.sustainedPerSecond}${scale.atLeast ? '+' : ''} jobs/s** sustained${scale.atLeast ? ' (every rate tried passed)' : ''}. ${scale.documents.jobsStarted} jobs wrote ${scale.documents.documentsWritten} Sync documents; documents written by more than one job: ${scale.documents.sharedDocuments.length}; not named after a job of the run: ${scale.documents.foreignDocuments.length}; at most ${scale.documents.maxWritesPerDocument} writes per document in all and ${scale.documents.maxWritesPerDocumentPerSecond} in any one second (Sync allows ${SYNC_WRITES_PER_SECOND_LIMIT}/s per object).`,
  );
  return [
    "The embedded default (no BACKEND_URL: the simulated backend, 1 s of work). Jobs arrive at a fixed rate for a few seconds per step; each is a whole call: start, /hold, join the room, a pending wait turn, the next turn releases the caller (the room's leave callback follows), the Dial action returns to Studio, the result is read: 6 function requests and ~8 Twilio calls per job." +
      ` The hold-loop period is shortened to ${SCALE_LOOP_PERIOD_MS / 1000} s here so a step takes seconds. A step passes with no error, start p99 under ${START_GOAL_MS / 1000} s and no backlog; the rate grows until a step fails.` +
      ' `not held`: jobs already done when /hold was asked (more than 1 s after the start, under load), which Studio then continues without holding the caller: fewer requests for those jobs.',
    '',
    table(
      [
        'mode',
        'jobs/s offered',
        'jobs',
        'errors',
        'not held',
        'start p50 / p99 ms',
        'end to end p50 / p99 s',
        'verdict',
      ],
      rows,
    ),
    '',
    ...docs,
  ].join('\n');
}

export function capacityLevels(c: CapacityResults): string {
  const hold = c.holdLevels.map((l) => [
    String(l.callers),
    String(l.turns),
    String(l.refused),
    String(l.errors),
    `${Math.round(l.turn.p50)} / ${Math.round(l.turn.p99)}`,
    String(l.peakInFlight),
    yes(l.ok),
  ]);
  const talk = c.conversationLevels.map((l) => [
    l.design,
    String(l.conversations),
    String(l.delivered),
    String(l.refused),
    String(l.errors),
    String(l.peakInFlight),
    `${l.elapsedSeconds}`,
    yes(l.ok),
  ]);
  return [
    'Held callers: each level adds callers (jobs that stay pending) and runs for two music loops; every caller fetches its next hold-loop turn one loop after the last.',
    '',
    table(['callers', 'turns', 'refused', 'errors', 'turn p50 / p99 ms', 'peak in flight', 'ok'], hold),
    '',
    'Text conversations: all start within a few seconds and wait for work that takes longer than their arrival. `execution`: the messaging flow ends after "working on it" and the completion starts it again through the Executions API; `long-poll`: the flow waits on `/jobs/status` (wait=6).',
    '',
    table(['design', 'conversations', 'delivered', 'refused', 'errors', 'peak in flight', 'seconds', 'ok'], talk),
  ].join('\n');
}
