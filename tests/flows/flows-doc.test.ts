/** docs/FLOWS.md is generated from the flows and must match them. */
import fs from 'node:fs';
import path from 'node:path';
import { loadProjectFlows, placeholderMeaning, renderFlowsDoc, withReadmeDiagrams } from '../../studio/flows-doc';
import { flowToMermaid } from '../../studio/mermaid';
import { HOLD_SUBFLOW, loadFlow, PROJECT_ROOT, VOICE_FLOW } from './flow-fixtures';

describe('docs/FLOWS.md', () => {
  it('is up to date with flows/*.json (run npm run flows:diagram)', () => {
    const onDisk = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'FLOWS.md'), 'utf8');
    expect(onDisk).toBe(renderFlowsDoc(loadProjectFlows()));
  });

  it('README.md carries the same diagrams (run npm run flows:diagram)', () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(readme).toBe(withReadmeDiagrams(readme, loadProjectFlows()));
    expect(readme.match(/```mermaid\nflowchart TD/g)?.length).toBe(loadProjectFlows().length);
  });

  it('explains every placeholder the flows use', () => {
    const text = loadProjectFlows().map((flow) => JSON.stringify(flow.definition)).join('\n');
    const placeholders = [...new Set(text.match(/__[A-Z][A-Z0-9_]*__/g) ?? [])];
    expect(placeholders.length).toBeGreaterThan(0);
    for (const placeholder of placeholders) expect(placeholderMeaning(placeholder)).toBeDefined();
  });
});

describe('Mermaid diagram', () => {
  const flow = loadFlow(HOLD_SUBFLOW);
  const diagram = flowToMermaid(flow);

  it('has a node for every state and an edge for every connected transition', () => {
    expect(diagram.startsWith('flowchart TD\n')).toBe(true);
    for (const state of flow.states) expect(diagram).toContain(`  s_${state.name}`);
    for (const state of flow.states) {
      for (const transition of state.transitions) {
        if (transition.next) expect(diagram).toMatch(new RegExp(`s_${state.name} -->\\|"[^"]*"\\| s_${transition.next}\\n`));
      }
    }
  });

  it('labels splits with what they compare and escapes characters Mermaid reads', () => {
    expect(diagram).toContain('s_route_start -->|"status = COMPLETED"| s_set_completed_fast');
    expect(diagram).toContain('s_check_hold_retries -->|"retries #gt; 2"| s_offer_agent');
    expect(diagram).toContain('s_hold -->|"return / timeout / fail"| s_get_result');
    expect(diagram).not.toMatch(/\|"[^"]*[<>][^"]*"\|/);
  });

  it('names the project subflow a Run Subflow runs', () => {
    expect(flowToMermaid(loadFlow(VOICE_FLOW))).toContain('s_hold_call[["hold_call<br/>run-subflow hold-subflow.json"]]');
  });
});
