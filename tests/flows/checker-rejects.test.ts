/**
 * Broken variants of our flows, each made by one change to a valid flow: the checker must name
 * the state and property of the fault, in exactly these words.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callerParams } from '../../src/lib/http/handler';
import { checkFlow, checkFlowFile, formatFault } from '../../studio/checker';
import { RESERVED_EVENT_KEYS } from '../../studio/runtime-event';
import type { FlowDefinition } from '../../studio/flow-model';
import { HOLD_SUBFLOW, MESSAGING_FLOW, mutate, SERVICE_FUNCTIONS, state, VOICE_FLOW } from './flow-fixtures';

const VOICE = 'flows/voice-hold.json';
const SUB = 'flows/hold-subflow.json';
const MESSAGING = 'flows/messaging.json';
const LIMIT = 'Studio ends the execution when one widget runs 10 times';
const FIX = 'count passes in Set Variables and leave the loop from a Split on the count';

interface Variant {
  name: string;
  file: string;
  flow: () => FlowDefinition;
  expected: string;
  /**
   * 'warning' for what Studio allows, or where its rule is not known: these variants used to be
   * errors (unreachable state, unknown widget type, unknown event, loops, a non-Trigger
   * initial_state, the Trigger not first, missing flags or offset), which was wrong.
   */
  severity?: 'warning';
}

const voice = (change: (flow: FlowDefinition) => void) => () => mutate(VOICE_FLOW, change);
const sub = (change: (flow: FlowDefinition) => void) => () => mutate(HOLD_SUBFLOW, change);
const messaging = (change: (flow: FlowDefinition) => void) => () => mutate(MESSAGING_FLOW, change);

const variants: Variant[] = [
  {
    name: 'dangling next',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'say_result').transitions[0].next = 'good_bye';
    }),
    expected: `${VOICE}: state "say_result", property "transitions[0].next": names state "good_bye", which this flow does not have`,
  },
  {
    name: 'duplicate state name',
    file: VOICE,
    flow: voice((f) => {
      f.states.push({ ...state(f, 'goodbye'), properties: { offset: { x: 0, y: 2600 }, say: 'Bye.' } });
    }),
    expected: `${VOICE}: state "goodbye", property "name": is used by 2 states; state names must be unique`,
  },
  {
    name: 'unreachable state',
    file: VOICE,
    flow: voice((f) => {
      f.states.push({
        name: 'orphan',
        type: 'say-play',
        transitions: [{ event: 'audioComplete' }],
        properties: { offset: { x: 0, y: 2600 }, say: 'Nobody hears this.' },
      });
    }),
    expected: `${VOICE}: state "orphan", property "name": warning: is disconnected: no transition from the Trigger leads here, so it never runs (Studio keeps such widgets)`,
    severity: 'warning',
  },
  {
    name: 'unknown widget type',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'goodbye').type = 'say-something';
    }),
    expected: `${VOICE}: state "goodbye", property "type": warning: "say-something" is not a widget type this checker knows, so Studio's rule for it is not known: its properties and events are not checked`,
    severity: 'warning',
  },
  {
    name: 'numeric timeout',
    file: SUB,
    flow: sub((f) => {
      state(f, 'hold').properties.timeout = 300;
    }),
    expected: `${SUB}: state "hold", property "timeout": must be a string holding a whole number (Studio rejects a JSON number here), got 300 (number)`,
  },
  {
    name: 'numeric priority',
    file: SUB,
    flow: sub((f) => {
      state(f, 'send_to_agent').properties.priority = 0;
    }),
    expected: `${SUB}: state "send_to_agent", property "priority": must be a string holding a whole number (Studio rejects a JSON number here), got 0 (number)`,
  },
  {
    name: 'timeout above the TwiML Redirect maximum',
    file: SUB,
    flow: sub((f) => {
      state(f, 'hold').properties.timeout = '20000';
    }),
    expected: `${SUB}: state "hold", property "timeout": must be at most 14400, got "20000"`,
  },
  {
    name: 'missing required property',
    file: SUB,
    flow: sub((f) => {
      delete state(f, 'start_job').properties.url;
    }),
    expected: `${SUB}: state "start_job", property "url": is required by run-function and is missing`,
  },
  {
    name: 'missing recipient of a message',
    file: MESSAGING,
    flow: messaging((f) => {
      delete state(f, 'send_result').properties.to;
    }),
    expected: `${MESSAGING}: state "send_result", property "to": is required by send-message and is missing`,
  },
  {
    name: 'missing offset',
    file: VOICE,
    flow: voice((f) => {
      delete (state(f, 'goodbye').properties as { offset?: unknown }).offset;
    }),
    expected: `${VOICE}: state "goodbye", property "offset": warning: is missing; Studio places every widget on the canvas by {"x": number, "y": number}, whether it requires one is not known`,
    severity: 'warning',
  },
  {
    name: 'bad transition event',
    file: SUB,
    flow: sub((f) => {
      state(f, 'hold').transitions[0].event = 'returned';
    }),
    expected: `${SUB}: state "hold", property "transitions[0].event": warning: "returned" is not an event add-twiml-redirect is known to fire (its documented events: return, timeout, fail); whether Studio accepts it is not known, and if the widget never fires it this transition is never taken`,
    severity: 'warning',
  },
  {
    name: 'split match without conditions',
    file: SUB,
    flow: sub((f) => {
      delete state(f, 'route_start').transitions[1].conditions;
    }),
    expected: `${SUB}: state "route_start", property "transitions[1].conditions": a "match" transition needs at least one condition`,
  },
  {
    name: 'broken Liquid',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'say_result').properties.say = '{{widgets.get_result.parsed.result.message';
    }),
    expected: `${VOICE}: state "say_result", property "say": Liquid does not parse: output "{{widgets.get_result.parsed.r..." not closed, line:1, col:1`,
  },
  {
    name: 'Liquid reading a widget the flow lacks',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'say_result').properties.say = '{{widgets.get_reslt.parsed.result.message}}';
    }),
    expected: `${VOICE}: state "say_result", property "say": reads widgets.get_reslt, but this flow has no state named "get_reslt"`,
  },
  {
    name: 'self-loop',
    file: MESSAGING,
    flow: messaging((f) => {
      state(f, 'wait_for_job').transitions[1].next = 'wait_for_job';
    }),
    expected: `${MESSAGING}: state "wait_for_job", property "transitions[1].next": warning: loops straight back to this state on "fail" with no counter: ${LIMIT}; ${FIX}`,
    severity: 'warning',
  },
  {
    name: 'loop that skips the counter',
    file: SUB,
    flow: sub((f) => {
      state(f, 'route_result').transitions[2].next = 'hold';
    }),
    expected: `${SUB}: state "hold", property "transitions[0].next": warning: starts a loop that no counter bounds (hold -> get_result -> route_result -> hold): ${LIMIT}; ${FIX}`,
    severity: 'warning',
  },
  {
    name: 'counter that allows too many runs',
    file: MESSAGING,
    flow: messaging((f) => {
      state(f, 'check_polls').transitions[1].conditions![0].value = '12';
    }),
    expected: `${MESSAGING}: state "check_polls", property "transitions[1].conditions[0].value": warning: lets the loop run 13 times on flow.variables.polls; ${LIMIT}, so leave the loop well before that`,
    severity: 'warning',
  },
  {
    name: 'Run Function URL naming a function the service lacks',
    file: SUB,
    flow: sub((f) => {
      state(f, 'start_job').properties.url = 'https://__SERVICE_DOMAIN__/jobs/begin';
      state(f, 'start_job').properties.function_sid = '__FUNCTION_SID_JOBS_BEGIN__';
    }),
    expected: `${SUB}: state "start_job", property "url": calls function "/jobs/begin", which the service does not have (it has: ${SERVICE_FUNCTIONS.join(', ')})`,
  },
  {
    name: 'TwiML Redirect URL naming a function the service lacks',
    file: SUB,
    flow: sub((f) => {
      state(f, 'hold').properties.url = 'https://__SERVICE_DOMAIN__/holding?jobId={{widgets.start_job.parsed.jobId}}';
    }),
    expected: `${SUB}: state "hold", property "url": calls function "/holding", which the service does not have (it has: ${SERVICE_FUNCTIONS.join(', ')})`,
  },
  {
    name: 'Run Function parameter named like a key the runtime reserves',
    file: MESSAGING,
    flow: messaging((f) => {
      (state(f, 'start_job').properties.parameters as Array<{ key: string }>)[1].key = 'request';
    }),
    expected: `${MESSAGING}: state "start_job", property "parameters[1].key": parameter "request" never reaches the function: the Functions runtime builds event as {request: {headers, cookies}, ...query, ...body}, so "request" collides with the runtime's own; rename it (e.g. "message")`,
  },
  {
    name: 'TwiML Redirect URL query key the runtime reserves',
    file: SUB,
    flow: sub((f) => {
      state(f, 'hold').properties.url = 'https://__SERVICE_DOMAIN__/hold?jobId={{widgets.start_job.parsed.jobId}}&request=x';
    }),
    expected: `${SUB}: state "hold", property "url": query parameter "request" never reaches the function: the Functions runtime builds event as {request: {headers, cookies}, ...query, ...body}, so "request" collides with the runtime's own; rename it (e.g. "message")`,
  },
  {
    name: 'function SID placeholder for another function',
    file: SUB,
    flow: sub((f) => {
      state(f, 'get_result').properties.function_sid = '__FUNCTION_SID_JOBS_START__';
    }),
    expected: `${SUB}: state "get_result", property "function_sid": must be __FUNCTION_SID_JOBS_RESULT__ for url /jobs/result, got "__FUNCTION_SID_JOBS_START__"`,
  },
  {
    name: 'wrong initial_state',
    file: VOICE,
    flow: voice((f) => {
      f.initial_state = 'greeting';
    }),
    expected: `${VOICE}: flow, property "initial_state": warning: names "greeting", but the Trigger state is "Trigger"; what Studio does with such a flow is not known`,
    severity: 'warning',
  },
  {
    name: 'initial_state naming no state',
    file: VOICE,
    flow: voice((f) => {
      f.initial_state = 'Trigger_1';
    }),
    expected: `${VOICE}: flow, property "initial_state": names "Trigger_1", which this flow does not have`,
  },
  {
    name: 'Trigger not the first state',
    file: VOICE,
    flow: voice((f) => {
      f.states.push(f.states.shift()!);
    }),
    expected: `${VOICE}: state "greeting", property "type": warning: the first state is not the Trigger (found "say-play"); Studio's exports put it first, whether Studio requires that is not known`,
    severity: 'warning',
  },
  {
    name: 'missing flags',
    file: VOICE,
    flow: voice((f) => {
      delete (f as Partial<FlowDefinition>).flags;
    }),
    expected: `${VOICE}: flow, property "flags": warning: is missing; Studio's exports carry {"allow_concurrent_calls": true|false}, whether Studio requires it is not known`,
    severity: 'warning',
  },
  {
    name: 'malformed flags',
    file: VOICE,
    flow: voice((f) => {
      (f as unknown as { flags: unknown }).flags = { allow_concurrent_calls: 'yes' };
    }),
    expected: `${VOICE}: flow, property "flags": must be {"allow_concurrent_calls": true|false}, got {"allow_concurrent_calls":"yes"} (object)`,
  },
];

describe('the checker rejects broken flows', () => {
  it('has at least 12 distinct broken variants', () => {
    expect(new Set(variants.map((v) => v.expected)).size).toBe(variants.length);
    expect(variants.filter((v) => v.severity === undefined).length).toBeGreaterThanOrEqual(12);
  });

  it.each(variants.map((v) => [v.name, v] as const))('%s', (_name, variant) => {
    const faults = checkFlow(variant.flow(), { fileName: variant.file, serviceFunctions: SERVICE_FUNCTIONS });
    const lines = faults.filter((f) => f.severity === (variant.severity ?? 'error')).map(formatFault);
    expect(lines).toContain(variant.expected);
  });

  it('reports a file that is not JSON in one line, naming where it breaks', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flows-'));
    const file = path.join(dir, 'broken.json');
    fs.writeFileSync(file, '{\n  "description": "x",\n  "states" []\n}\n');
    const faults = checkFlowFile(file, { fileName: 'broken.json', serviceFunctions: SERVICE_FUNCTIONS });
    expect(faults.map(formatFault)).toEqual([
      'broken.json: flow, property "(file)": is not valid JSON: expected ":" after the property name at line 3, column 12, found "["',
    ]);
  });

  it('reports a file it cannot read', () => {
    const faults = checkFlowFile('/nonexistent/flow.json', { serviceFunctions: SERVICE_FUNCTIONS });
    expect(faults.map(formatFault)).toEqual([
      '/nonexistent/flow.json: flow, property "(file)": cannot be read: ENOENT',
    ]);
  });
});

describe('keys the Functions runtime reserves', () => {
  it('are the keys the service takes as the runtime\'s, not as parameters', () => {
    expect(RESERVED_EVENT_KEYS).toContain('request');
    for (const key of RESERVED_EVENT_KEYS) {
      const event = { [key]: { headers: {}, cookies: {} }, task: 'demo' };
      expect(callerParams(event as never)).toEqual({ task: 'demo' });
    }
  });

  it('are refused wherever they appear, and only there', () => {
    const flow = mutate(MESSAGING_FLOW, (f) => {
      (state(f, 'get_result').properties.parameters as Array<{ key: string; value: string }>).push({ key: 'Request', value: 'x' });
      state(f, 'get_result').properties.url = 'https://__SERVICE_DOMAIN__/jobs/result?requests=1';
    });
    expect(checkFlow(flow, { fileName: MESSAGING, serviceFunctions: SERVICE_FUNCTIONS }).map(formatFault)).toEqual([]);
  });
});

describe('the checker warns', () => {
  it('when a counter lets a loop come close to the limit', () => {
    const flow = mutate(MESSAGING_FLOW, (f) => {
      state(f, 'check_polls').transitions[1].conditions![0].value = '7';
    });
    const faults = checkFlow(flow, { fileName: MESSAGING, serviceFunctions: SERVICE_FUNCTIONS });
    expect(faults.map(formatFault)).toEqual([
      `${MESSAGING}: state "check_polls", property "transitions[1].conditions[0].value": warning: lets the loop run 8 times on flow.variables.polls, close to Studio's limit of 10 runs of one widget`,
    ]);
  });

  it('(and does not fail) on a loop paced by the contact', () => {
    const flow = mutate(MESSAGING_FLOW, (f) => {
      const ask = state(f, 'send_working_async');
      ask.type = 'send-and-wait-for-reply';
      ask.properties.timeout = '600';
      ask.transitions = [
        { event: 'incomingMessage', next: 'start_job' },
        { event: 'timeout' },
        { event: 'deliveryFailure' },
      ];
    });
    const faults = checkFlow(flow, { fileName: MESSAGING, serviceFunctions: SERVICE_FUNCTIONS });
    expect(faults.map((f) => f.severity)).toEqual(['warning']);
    expect(formatFault(faults[0])).toBe(
      `${MESSAGING}: state "start_job", property "transitions[0].next": warning: starts a loop that no counter bounds ` +
        `(start_job -> route_delivery -> send_working_async -> start_job); each pass waits on the contact, but ${LIMIT}: ${FIX}`,
    );
  });
});
