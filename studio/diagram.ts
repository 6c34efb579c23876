/**
 * npm run flows:diagram [-- --check]
 *
 * Writes docs/FLOWS.md from flows/*.json (Mermaid diagram per flow, import steps, placeholders)
 * and the diagrams section of README.md. With --check, writes nothing and exits 1 when either
 * is out of date.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadProjectFlows, renderFlowsDoc, withReadmeDiagrams } from './flows-doc';
import { FLOWS_DOC, PROJECT_ROOT, README } from '../dev/paths';

function main(argv: string[]): number {
  const check = argv.includes('--check');
  let doc: string;
  let readme: string;
  const currentReadme = fs.readFileSync(README, 'utf8');
  try {
    const flows = loadProjectFlows();
    doc = renderFlowsDoc(flows);
    readme = withReadmeDiagrams(currentReadme, flows);
  } catch (error) {
    process.stderr.write(`flows:diagram: cannot read the flows: ${(error as Error).message.split('\n')[0]}\n`);
    return 1;
  }
  if (check && readme !== currentReadme) {
    process.stderr.write('flows:diagram: README.md diagrams are out of date; run npm run flows:diagram\n');
    return 1;
  }
  if (readme !== currentReadme) fs.writeFileSync(README, readme);
  const target = path.relative(PROJECT_ROOT, FLOWS_DOC);
  const current = fs.existsSync(FLOWS_DOC) ? fs.readFileSync(FLOWS_DOC, 'utf8') : null;
  if (check) {
    if (current === doc) return 0;
    process.stderr.write(`flows:diagram: ${target} is out of date; run npm run flows:diagram\n`);
    return 1;
  }
  if (current !== doc) fs.writeFileSync(FLOWS_DOC, doc);
  process.stderr.write(`flows:diagram: ${target} ${current === doc ? 'already up to date' : 'written'}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
