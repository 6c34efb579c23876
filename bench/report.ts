/**
 * Turns a run's results into docs/BENCHMARKS.md and docs/benchmarks.svg (and README.md's capacity
 * section). Run on its own (`npx tsx bench/report.ts`) it redraws them from
 * bench/results/summary.json.
 *
 * The parts, in bench/report/: results.ts (the results model), goal-rows.ts (each measurement
 * against its goal), sections.ts (a section per part of the run), changes.ts (what changed, before
 * and after), document.ts (the whole page) and chart.ts (the chart's panels).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../dev/paths';
import { capacitySection, withReadmeSection } from './capacity-report';
import { loadPrices } from './cost';
import { chartSvg } from './report/chart';
import { renderMarkdown } from './report/document';
import type { BenchResults } from './report/results';

export type { BenchResults } from './report/results';
export { goalRows, type GoalRow } from './report/goal-rows';
export { chartSvg, renderMarkdown };

export function writeReport(results: BenchResults, options: { resultsDir: string; docsDir: string }): void {
  const beforeFile = path.join(options.resultsDir, 'before.json');
  const before =
    fs.existsSync(beforeFile) && !results.quick
      ? (JSON.parse(fs.readFileSync(beforeFile, 'utf8')) as BenchResults)
      : undefined;
  const useBefore = before && before.generatedAt !== results.generatedAt ? before : undefined;
  fs.mkdirSync(options.docsDir, { recursive: true });
  fs.writeFileSync(path.join(options.docsDir, 'benchmarks.svg'), chartSvg(results, useBefore));
  fs.writeFileSync(path.join(options.docsDir, 'BENCHMARKS.md'), renderMarkdown(results, useBefore));
  // The README's capacity and cost tables come from the full run that wrote docs/.
  if (results.capacity && !results.quick && path.resolve(options.docsDir) === path.join(PROJECT_ROOT, 'docs')) {
    const readme = path.join(PROJECT_ROOT, 'README.md');
    fs.writeFileSync(
      readme,
      withReadmeSection(fs.readFileSync(readme, 'utf8'), capacitySection(results.capacity, loadPrices())),
    );
  }
}

if (require.main === module) {
  const resultsDir = path.join(PROJECT_ROOT, 'bench', 'results');
  const results = JSON.parse(fs.readFileSync(path.join(resultsDir, 'summary.json'), 'utf8')) as BenchResults;
  writeReport(results, { resultsDir, docsDir: path.join(PROJECT_ROOT, 'docs') });
  console.log('wrote docs/BENCHMARKS.md and docs/benchmarks.svg');
}
