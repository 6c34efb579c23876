/**
 * npm run flows:check-fixtures [-- --fixtures DIR] [--expectations FILE] [--verbose]
 *
 * Runs the flow checker on the reference flows kept beside the project (not in it): by default
 * ../shared/fixtures, whichever of its folders exist:
 * - studio-flows/: real exported flows the checker must accept. Each file is judged: no errors,
 *   and exactly the warnings listed below (loops paced by the contact). The folder itself must
 *   hold at least MIN_STUDIO_FLOWS flows and its README.
 * - real-flows/: more published flows, some with real defects. Each file is judged against its
 *   line in the expectations table (real-flows-expectations.json beside this file, keyed by file
 *   name): "accepted" means no errors (warnings are shown, not judged); "rejected" means exactly
 *   the errors listed there, for the reason stated. A file the table does not list, or a listed
 *   file the folder lacks, fails too.
 *
 * Prints one line per file with its verdict, then `N passed, M failed` (judged items only).
 * Exit 0 when every expectation holds; 1 when one does not, or when there is nothing to check;
 * 2 on bad usage. `npm test` does not need these folders: a clone tests itself without them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../dev/paths';
import { checkFlowFile, formatFault, type Fault } from './index';

export const DEFAULT_FIXTURES_DIR = path.resolve(PROJECT_ROOT, '../shared/fixtures');
export const DEFAULT_EXPECTATIONS = path.join(__dirname, 'real-flows-expectations.json');

/** The verdict a real flow must get, and why (docs/FLOWS.md shows the table). */
export type RealFlowExpectation =
  { verdict: 'accepted'; note?: string } | { verdict: 'rejected'; reason: string; errors: string[]; note?: string };

export type RealFlowExpectations = Record<string, RealFlowExpectation>;

/** Reads and checks the table's form; a malformed table is a usage error, not a pass. */
export function loadExpectations(file: string): RealFlowExpectations {
  const table = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  if (typeof table !== 'object' || table === null || Array.isArray(table))
    throw new Error(`${file}: must be an object keyed by file name`);
  for (const [name, entry] of Object.entries(table as Record<string, unknown>)) {
    const e = entry as Partial<{ verdict: unknown; reason: unknown; errors: unknown }>;
    const ok =
      e?.verdict === 'accepted' ||
      (e?.verdict === 'rejected' &&
        typeof e.reason === 'string' &&
        e.reason !== '' &&
        Array.isArray(e.errors) &&
        e.errors.length > 0 &&
        e.errors.every((line) => typeof line === 'string'));
    if (!ok)
      throw new Error(
        `${file}: "${name}" must be {"verdict": "accepted"} or {"verdict": "rejected", "reason", "errors": [...]}`,
      );
  }
  return table as RealFlowExpectations;
}
export const MIN_STUDIO_FLOWS = 6;

const PACED =
  'loops straight back to this state on "deliveryFailure" with no counter; each pass waits on the contact, ' +
  'but Studio ends the execution when one widget runs 10 times: count passes in Set Variables and leave the loop from a Split on the count';

/**
 * The only warnings the studio-flows folder may draw. Both Flex templates resend a message on
 * deliveryFailure with no counter: Studio accepts that, and ends the execution after 10 failed
 * sends, so it is a warning, not an error.
 */
export const STUDIO_FLOWS_WARNINGS: readonly string[] = [
  `flex-template-messaging-parking.json: state "send_welcome", property "transitions[2].next": warning: ${PACED}`,
  `flex-template-messaging.json: state "identify_queue", property "transitions[2].next": warning: ${PACED}`,
];

export interface FixtureLine {
  /** pass/fail: judged against an expectation; seen: reported only (no folder uses it now). */
  outcome: 'pass' | 'fail' | 'seen';
  text: string;
  /** Fault lines shown under it (always for a failure, with --verbose for the rest). */
  details: string[];
}

export interface FixtureReport {
  lines: FixtureLine[];
  passed: number;
  failed: number;
  /** Verdicts of real-flows: accepted / rejected counts. */
  realFlows: { accepted: number; rejected: number } | null;
  /** Folders found; none means there was nothing to check. */
  folders: string[];
}

function flowFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => path.join(dir, name));
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** "accepted", "accepted, 1 warning", "rejected, 3 errors". */
function verdictOf(faults: readonly Fault[]): { accepted: boolean; text: string } {
  const errors = faults.filter((fault) => fault.severity === 'error').length;
  const warnings = faults.length - errors;
  if (errors > 0)
    return {
      accepted: false,
      text: `rejected, ${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`,
    };
  return { accepted: true, text: warnings ? `accepted, ${plural(warnings, 'warning')}` : 'accepted' };
}

/** Checks one file; a checker that throws is reported as such, never passed on. */
function checkOne(file: string): { faults: Fault[] } | { crash: string } {
  try {
    return { faults: checkFlowFile(file, { fileName: path.basename(file), serviceFunctions: null }) };
  } catch (error) {
    return { crash: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
  }
}

function studioFlows(dir: string, report: FixtureReport): void {
  const files = flowFiles(dir);
  const readme = fs.existsSync(path.join(dir, 'README.md'));
  const folderOk = files.length >= MIN_STUDIO_FLOWS && readme;
  report.lines.push({
    outcome: folderOk ? 'pass' : 'fail',
    text: `studio-flows/: ${plural(files.length, 'flow file')}, README.md ${readme ? 'present' : 'missing'} (expected at least ${MIN_STUDIO_FLOWS} and a README)`,
    details: [],
  });
  for (const file of files) {
    const name = `studio-flows/${path.basename(file)}`;
    const checked = checkOne(file);
    if ('crash' in checked) {
      report.lines.push({ outcome: 'fail', text: `${name}: the checker crashed: ${checked.crash}`, details: [] });
      continue;
    }
    const verdict = verdictOf(checked.faults);
    const expectedWarnings = STUDIO_FLOWS_WARNINGS.filter((line) => line.startsWith(`${path.basename(file)}: `));
    const found = checked.faults.map(formatFault);
    const unexpected = found.filter((line) => !expectedWarnings.includes(line));
    const missing = expectedWarnings.filter((line) => !found.includes(line));
    const ok = verdict.accepted && unexpected.length === 0 && missing.length === 0;
    const expected = expectedWarnings.length
      ? `accepted, ${plural(expectedWarnings.length, 'listed warning')}`
      : 'accepted';
    report.lines.push({
      outcome: ok ? 'pass' : 'fail',
      text: `${name}: ${verdict.text}${ok ? (expectedWarnings.length ? ' (as listed)' : '') : ` (expected: ${expected})`}`,
      details: ok
        ? found
        : [...unexpected.map((line) => `unexpected: ${line}`), ...missing.map((line) => `missing: ${line}`)],
    });
  }
}

function realFlows(dir: string, expectations: RealFlowExpectations, report: FixtureReport): void {
  const counts = { accepted: 0, rejected: 0 };
  const files = flowFiles(dir);
  for (const file of files) {
    const base = path.basename(file);
    const name = `real-flows/${base}`;
    const checked = checkOne(file);
    if ('crash' in checked) {
      report.lines.push({ outcome: 'fail', text: `${name}: the checker crashed: ${checked.crash}`, details: [] });
      continue;
    }
    const verdict = verdictOf(checked.faults);
    counts[verdict.accepted ? 'accepted' : 'rejected'] += 1;
    const found = checked.faults.map(formatFault);
    const expected = Object.prototype.hasOwnProperty.call(expectations, base) ? expectations[base] : undefined;
    if (!expected) {
      report.lines.push({
        outcome: 'fail',
        text: `${name}: ${verdict.text} (no expectation listed for it)`,
        details: found,
      });
      continue;
    }
    const errors = checked.faults.filter((fault) => fault.severity === 'error').map(formatFault);
    const wanted = expected.verdict === 'rejected' ? expected.errors : [];
    const unexpected = errors.filter((line) => !wanted.includes(line));
    const missing = wanted.filter((line) => !errors.includes(line));
    const ok = unexpected.length === 0 && missing.length === 0;
    const why = expected.verdict === 'rejected' ? `: ${expected.reason}` : '';
    report.lines.push({
      outcome: ok ? 'pass' : 'fail',
      text: `${name}: ${verdict.text}${ok ? (expected.verdict === 'rejected' ? ` as expected${why}` : '') : ` (expected: ${expected.verdict}${why})`}`,
      details: ok
        ? found
        : [...unexpected.map((line) => `unexpected: ${line}`), ...missing.map((line) => `missing: ${line}`)],
    });
  }
  const present = new Set(files.map((file) => path.basename(file)));
  for (const base of Object.keys(expectations).sort()) {
    if (!present.has(base)) {
      report.lines.push({
        outcome: 'fail',
        text: `real-flows/${base}: listed in the expectations but not in the folder`,
        details: [],
      });
    }
  }
  report.realFlows = counts;
}

/** Checks whichever fixture folders exist under `root`. */
export function checkFixtures(
  root: string,
  expectations: RealFlowExpectations = loadExpectations(DEFAULT_EXPECTATIONS),
): FixtureReport {
  const report: FixtureReport = { lines: [], passed: 0, failed: 0, realFlows: null, folders: [] };
  const folder = (name: string) => {
    const dir = path.join(root, name);
    return fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? dir : null;
  };
  const studio = folder('studio-flows');
  const real = folder('real-flows');
  if (studio) {
    report.folders.push('studio-flows');
    studioFlows(studio, report);
  }
  if (real) {
    report.folders.push('real-flows');
    realFlows(real, expectations, report);
  }
  report.passed = report.lines.filter((line) => line.outcome === 'pass').length;
  report.failed = report.lines.filter((line) => line.outcome === 'fail').length;
  return report;
}

function main(argv: string[]): number {
  let root = DEFAULT_FIXTURES_DIR;
  let expectationsFile = DEFAULT_EXPECTATIONS;
  let verbose = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--verbose') verbose = true;
    else if (arg === '--fixtures' && argv[i + 1]) {
      root = path.resolve(argv[i + 1]!);
      i += 1;
    } else if (arg === '--expectations' && argv[i + 1]) {
      expectationsFile = path.resolve(argv[i + 1]!);
      i += 1;
    } else {
      process.stderr.write(
        `flows:check-fixtures: unknown argument ${arg}\nusage: flows:check-fixtures [--fixtures DIR] [--expectations FILE] [--verbose]\n`,
      );
      return 2;
    }
  }

  let expectations: RealFlowExpectations;
  try {
    expectations = loadExpectations(expectationsFile);
  } catch (error) {
    process.stderr.write(
      `flows:check-fixtures: cannot use the expectations: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 2;
  }
  const report = checkFixtures(root, expectations);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (report.folders.length === 0) {
    process.stderr.write(`flows:check-fixtures: no studio-flows/ or real-flows/ under ${root}: nothing to check\n`);
    out('0 passed, 0 failed');
    return 1;
  }
  for (const line of report.lines) {
    out(`${line.outcome.padEnd(4)}  ${line.text}`);
    if (line.outcome === 'fail' || verbose) for (const detail of line.details) out(`        ${detail}`);
  }
  if (report.realFlows) {
    out(`real-flows: ${report.realFlows.accepted} accepted, ${report.realFlows.rejected} rejected`);
  }
  out(`${report.passed} passed, ${report.failed} failed`);
  return report.failed > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
