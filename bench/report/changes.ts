/**
 * What the report says about the changes: what was made faster, the figures before and after
 * (against bench/results/before.json), and what was not done.
 */
import { table } from './markdown';
import { leaveCalls, type BenchResults } from './results';

export const OPTIMIZATIONS = [
  'What the first run showed, and what changed (figures in the table below):',
  '',
  "1. **Cold start.** Every bundle required the whole `twilio` package at load: nearly all of the 100-130 ms a fresh process took to load a bundle, mostly axios, form-data, jsonwebtoken and qs pulled in by its REST client. The functions now load the helper library's parts on first use (`twilio/lib/rest/Twilio`, `twilio/lib/base/RequestClient`, `twilio/lib/twiml/VoiceResponse`): on the platform (and in twilio-run) the runtime has loaded the helper library for the global `Twilio` before any function, so those requires are cache hits and a bundle loads in a few ms. In a bare process the first REST call still pays for the REST client once.",
  "2. **Bundle size.** A third of each bundle was the `standardwebhooks` package's pure-JS SHA-256 and base64. Signing now computes the same Standard Webhooks signatures (`v1,` base64 HMAC-SHA256 of `id.timestamp.body`, `whsec_` secrets, several signatures, 5-minute tolerance, constant-time compare) with `node:crypto`; a unit test checks it against the `standardwebhooks` package both ways.",
  '3. **REST client per request.** Each request built a new helper-library client (a new axios instance and HTTPS agent). A warm instance now reuses one client per configuration, which also keeps its connections to Twilio alive between invocations instead of a new TLS handshake per request (not visible against the local emulator, which is plain HTTP).',
  "4. **Release after a push completion.** `/jobs/complete` read the job, wrote it, listed the room, then ended it: 4 calls in a row before the caller heard anything. It then looked the room up while it read the job, and ended the room while it wrote the final status: 2 in a row. Now it reads the job (which names the caller's call since /hold) and redirects the call while it writes the final status: still 2 in a row, one call fewer, and it works whether or not Twilio lets an `init` room be ended by REST or listed by `Status=init` (docs/TWILIO-DIFFERENCES.md).",
].join('\n');

const NOT_DONE_FORK =
  "- `twilio-run` forking a process per request is what makes the fork rows slow (about a quarter of a second per request before our code runs); `npm start` keeps twilio-run's default. `startLocalStack({ forkProcess: false, live: false })` serves requests the way a warm instance does.";

export const notDone = (results: BenchResults) =>
  [
    "- The hold loop's releasing turn (poll and simulated modes) reads, writes, then redirects the call (3 in a row): the redirect follows the write so the status it hands Studio is the one that landed.",
    ...(leaveCalls(results.roundTrips) > 0
      ? [
          "- The room's `leave` callback reads the job even when the caller left because the job was done. `participant-leave` carries `ParticipantCallStatus` and `ReasonParticipantLeft` (since 2023), but their values are not documented, so the service does not act on them; a verify:live record that settles them could save this read (one call per job).",
        ]
      : []),
    NOT_DONE_FORK,
  ].join('\n');

interface Comparable {
  name: string;
  get: (r: BenchResults) => number | undefined;
  unit: string;
}

const COMPARABLES: Comparable[] = [
  {
    name: 'push completion: critical path (Twilio calls in a row)',
    unit: '',
    get: (r) =>
      r.roundTrips?.scenarios.find((s) => s.scenario === 'push')?.phases.find((p) => p.phase === 'completion')
        ?.criticalPath,
  },
  {
    name: 'push: Twilio calls per job',
    unit: '',
    get: (r) => r.roundTrips?.scenarios.find((s) => s.scenario === 'push')?.fixedTotal,
  },
  {
    name: 'hold release after a push completion, p50 (warm)',
    unit: 'ms',
    get: (r) => r.release.find((x) => x.case.startsWith('push') && x.mode === 'warm')?.summary.p50,
  },
  {
    name: 'hold release after a push completion, p95 (warm)',
    unit: 'ms',
    get: (r) => r.release.find((x) => x.case.startsWith('push') && x.mode === 'warm')?.summary.p95,
  },
  {
    name: 'hold release after a push completion, p50 (fork)',
    unit: 'ms',
    get: (r) => r.release.find((x) => x.case.startsWith('push') && x.mode === 'fork')?.summary.p50,
  },
  {
    name: 'cold start: slowest bundle load, bare (p50)',
    unit: 'ms',
    get: (r) => (r.coldStart.length ? Math.max(...r.coldStart.map((c) => c.bare.load.p50)) : undefined),
  },
  {
    name: 'cold start: slowest first request, with the runtime (p50)',
    unit: 'ms',
    get: (r) => (r.coldStart.length ? Math.max(...r.coldStart.map((c) => c.runtime.firstCall.p50)) : undefined),
  },
  {
    name: 'largest bundle',
    unit: 'KiB',
    get: (r) =>
      r.coldStart.length ? Math.round(Math.max(...r.coldStart.map((c) => c.bytes)) / 102.4) / 10 : undefined,
  },
  ...([1, 10, 100] as const).flatMap((c) =>
    (['accepts in 200 ms', 'hangs'] as const).map((b) => ({
      name: `/jobs/start p99, warm, ${b}, ${c} callers`,
      unit: 'ms',
      get: (r: BenchResults) =>
        r.startLatency.find((x) => x.mode === 'warm' && x.backend === b && x.concurrency === c)?.summary.p99,
    })),
  ),
  {
    name: '/jobs/start p50, fork, accepts, 1 caller',
    unit: 'ms',
    get: (r) =>
      r.startLatency.find((x) => x.mode === 'fork' && x.backend === 'accepts in 200 ms' && x.concurrency === 1)?.summary
        .p50,
  },
  {
    name: 'scale, warm: jobs/s sustained',
    unit: '',
    get: (r) => r.scale.find((s) => s.mode === 'warm')?.sustainedPerSecond,
  },
  {
    name: 'scale, fork: jobs/s sustained',
    unit: '',
    get: (r) => r.scale.find((s) => s.mode === 'fork')?.sustainedPerSecond,
  },
];

export function beforeAfterSection(before: BenchResults, after: BenchResults): string {
  const rows = COMPARABLES.map((c) => {
    const a = c.get(before);
    const b = c.get(after);
    const fmt = (v: number | undefined) =>
      v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v * 10) / 10}${c.unit ? ` ${c.unit}` : ''}`;
    return [c.name, fmt(a), fmt(b)];
  });
  const leaveSaved = leaveCalls(before.roundTrips) - leaveCalls(after.roundTrips);
  const others =
    leaveSaved > 0
      ? ` Not all of the difference is from the changes above: meanwhile the room's leave callback stopped reading the job when the caller's call is still in progress (\`src/functions/hold/events.protected.ts\`), ${leaveSaved} call fewer per job.`
      : '';
  return [
    `Before: the run of ${before.generatedAt.slice(0, 16).replace('T', ' ')} UTC (\`bench/results/before.json\`); after: this run. Call counts, critical paths, sizes and load times repeat from run to run; the 100-caller, fork and scale rows depend on what else the machine is doing (see the last table) and move between runs of the same code by more than some of the differences shown here.${others}`,
    '',
    table(['measure', 'before', 'after'], rows),
  ].join('\n');
}
