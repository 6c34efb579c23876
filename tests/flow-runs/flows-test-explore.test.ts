/**
 * Users' own tests: `npm run flows:test` (scenario files next to the flows, a readable report,
 * JUnit XML) and `npm run flows:explore` (every reachable transition with generated inputs:
 * coverage, dead branches, runtime Liquid errors, executions Studio would cut off).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FlowDefinition } from '../../studio/flow-model';
import { explore, formatExplore } from '../../studio/runner/explore';
import { menuRoute, menuState, runScript, sayState as say, smallFlow, type StateSpec } from './support';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flows-test-'));

const flow = (first: string, states: StateSpec[]) => smallFlow('flows:test', ['incomingCall'], first, states);
const menu = (next: { timeout?: string }) => menuState('Press 1 or 2', { keypress: 'route', ...next });

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tsx = (script: string, args: string[]) => runScript(script, args, { cwd: dir });

describe('npm run flows:test', () => {
  it('runs the scenario files under a folder, prints a report and writes JUnit XML', async () => {
    const flows = path.join(dir, 'flows');
    fs.mkdirSync(path.join(flows, 'ivr'), { recursive: true });
    fs.writeFileSync(
      path.join(flows, 'ivr', 'menu.json'),
      JSON.stringify(
        flow('menu', [menu({}), menuRoute('one', 'two'), say('one', 'You chose one'), say('two', 'You chose two')]),
      ),
    );
    fs.writeFileSync(
      path.join(flows, 'ivr', 'menu.scenarios.json'),
      JSON.stringify({
        // no "flow": menu.scenarios.json tests menu.json
        scenarios: [
          {
            name: 'one',
            steps: [{ press: '1' }],
            expect: { heard: ['Press 1', 'You chose one'], end: { kind: 'completed', widget: 'one' } },
          },
          { name: 'two & <more>', steps: [{ press: '2' }], expect: { heard: ['You chose one'] } },
        ],
      }),
    );
    fs.writeFileSync(path.join(flows, 'broken.scenarios.json'), '{"flow": "nothing.json", "scenarios": []}');
    const junit = path.join(dir, 'reports', 'flows.xml');
    const result = await tsx('studio/runner/flows-test.ts', ['--dir', 'flows', '--junit', junit]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✓ one/);
    expect(result.stdout).toMatch(/✗ two & <more>[\s\S]*heard: "You chose one" was not heard/);
    expect(result.stdout).toMatch(/broken\.scenarios\.json[\s\S]*cannot be read/);
    expect(result.stdout).toMatch(/1 passed, 2 failed/);
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="flows:test" tests="3" failures="2"/);
    expect(xml).toMatch(/<testsuite name="flows\/ivr\/menu\.scenarios\.json" tests="2" failures="1"/);
    expect(xml).toMatch(/<testcase classname="flows\/ivr\/menu\.scenarios\.json" name="one" time="[\d.]+"\/>/);
    expect(xml).toMatch(
      /name="two &amp; &lt;more&gt;"[^>]*>\s*<failure message="heard: &quot;You chose one&quot; was not heard/,
    );

    const only = await tsx('studio/runner/flows-test.ts', [
      path.join(flows, 'ivr', 'menu.scenarios.json'),
      '--filter',
      'one',
    ]);
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/1 passed, 0 failed/);
  }, 120_000);
});

describe('npm run flows:explore', () => {
  it('covers every transition it can drive and names dead branches, Liquid errors and cut-offs', async () => {
    const definition = flow('menu', [
      menu({ timeout: 'menu' }), // silence loops back to the menu with no counter: Studio cuts it off
      menuRoute('one', 'broken'),
      say('one', 'One'),
      say('broken', 'Two {% if widgets.menu.Digits %}'), // a tag that is never closed
      say('orphan', 'Nothing leads here'),
    ]);
    const report = await explore(definition);
    expect(report.widgets.unreachable).toEqual(['orphan']);
    expect(report.widgets.notCovered).toEqual([]);
    expect(report.liquidErrors).toEqual([
      expect.objectContaining({ widget: 'broken', message: expect.stringMatching(/Liquid error/) }),
    ]);
    expect(report.cutOffs).toEqual([
      expect.objectContaining({ widget: 'menu', end: expect.stringMatching(/10th time/) }),
    ]);
    // The menu's speech has no widget after it and is driven too; only the broken widget's own transition is never taken.
    expect(report.transitions.notCovered.map((t) => `${t.widget}:${t.event}`)).toEqual(['broken:audioComplete']);
    expect(formatExplore('menu.json', report)).toMatch(/Dead branches[\s\S]*broken —audioComplete→ \(end\)/);

    fs.writeFileSync(path.join(dir, 'explore.json'), JSON.stringify(definition));
    const cli = await tsx('studio/runner/explore.ts', ['explore.json', '--json']);
    expect(cli.code).toBe(1); // a Liquid error and a cut-off
    expect(JSON.parse(cli.stdout)).toMatchObject({ widgets: { unreachable: ['orphan'] } });
  }, 120_000);

  it("fills a REST execution's flow.data and a message's Body from the splits that read them", async () => {
    const split = (name: string, input: string, values: string[]): StateSpec => ({
      name,
      type: 'split-based-on',
      properties: { input },
      transitions: [
        { event: 'noMatch' },
        ...values.map((value) => ({
          event: 'match',
          next: `say_${value}`,
          conditions: [{ friendly_name: value, arguments: [input], type: 'equal_to', value }],
        })),
      ],
    });
    const rest: FlowDefinition = {
      ...flow('kind', [
        split('kind', '{{flow.data.reminder.kind}}', ['visit', 'bill']),
        say('say_visit', 'Visit'),
        say('say_bill', 'Bill'),
      ]),
    };
    rest.states[0]!.transitions = [
      { event: 'incomingRequest', next: 'kind' },
      { event: 'incomingMessage', next: 'word' },
    ];
    rest.states.push(split('word', '{{trigger.message.Body}}', ['stop']) as never, say('say_stop', 'Stopped') as never);
    const report = await explore(rest);
    expect(report.transitions.notCovered).toEqual([]);
  });
});
