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
import { MESSAGING_FLOW, mutate, SERVICE_FUNCTIONS, state, VOICE_FLOW } from './flow-fixtures';

const VOICE = 'flows/voice-hold.json';
const MESSAGING = 'flows/messaging-poll.json';
const LIMIT = 'Studio ends the execution when one widget runs 10 times';
const FIX = 'count passes in Set Variables and leave the loop from a Split on the count';

interface Variant {
  name: string;
  file: string;
  flow: () => FlowDefinition;
  expected: string;
}

const voice = (change: (flow: FlowDefinition) => void) => () => mutate(VOICE_FLOW, change);
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
    expected: `${VOICE}: state "orphan", property "name": is unreachable: no transition from the Trigger leads here`,
  },
  {
    name: 'unknown widget type',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'goodbye').type = 'say-something';
    }),
    expected: `${VOICE}: state "goodbye", property "type": "say-something" is not a Studio widget type`,
  },
  {
    name: 'numeric timeout',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'hold').properties.timeout = 300;
    }),
    expected: `${VOICE}: state "hold", property "timeout": must be a string holding a whole number (Studio rejects a JSON number here), got 300 (number)`,
  },
  {
    name: 'numeric priority',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'send_to_agent').properties.priority = 0;
    }),
    expected: `${VOICE}: state "send_to_agent", property "priority": must be a string holding a whole number (Studio rejects a JSON number here), got 0 (number)`,
  },
  {
    name: 'timeout above the TwiML Redirect maximum',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'hold').properties.timeout = '20000';
    }),
    expected: `${VOICE}: state "hold", property "timeout": must be at most 14400, got "20000"`,
  },
  {
    name: 'missing required property',
    file: VOICE,
    flow: voice((f) => {
      delete state(f, 'start_job').properties.url;
    }),
    expected: `${VOICE}: state "start_job", property "url": is required by run-function and is missing`,
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
    expected: `${VOICE}: state "goodbye", property "offset": must be {"x": number, "y": number} (Studio places every widget by it), got nothing`,
  },
  {
    name: 'bad transition event',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'hold').transitions[0].event = 'returned';
    }),
    expected: `${VOICE}: state "hold", property "transitions[0].event": "returned" is not an event of add-twiml-redirect (its events: return, timeout, fail)`,
  },
  {
    name: 'split match without conditions',
    file: VOICE,
    flow: voice((f) => {
      delete state(f, 'route_start').transitions[1].conditions;
    }),
    expected: `${VOICE}: state "route_start", property "transitions[1].conditions": a "match" transition needs at least one condition`,
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
    expected: `${MESSAGING}: state "wait_for_job", property "transitions[1].next": loops straight back to this state on "fail" with no counter: ${LIMIT}; ${FIX}`,
  },
  {
    name: 'loop that skips the counter',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'route_result').transitions[2].next = 'hold';
    }),
    expected: `${VOICE}: state "hold", property "transitions[0].next": starts a loop that no counter bounds (hold -> get_result -> route_result -> hold): ${LIMIT}; ${FIX}`,
  },
  {
    name: 'counter that allows too many runs',
    file: MESSAGING,
    flow: messaging((f) => {
      state(f, 'check_polls').transitions[1].conditions![0].value = '12';
    }),
    expected: `${MESSAGING}: state "check_polls", property "transitions[1].conditions[0].value": lets the loop run 13 times on flow.variables.polls; ${LIMIT}, so leave the loop well before that`,
  },
  {
    name: 'Run Function URL naming a function the service lacks',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'start_job').properties.url = 'https://__SERVICE_DOMAIN__/jobs/begin';
      state(f, 'start_job').properties.function_sid = '__FUNCTION_SID_JOBS_BEGIN__';
    }),
    expected: `${VOICE}: state "start_job", property "url": calls function "/jobs/begin", which the service does not have (it has: ${SERVICE_FUNCTIONS.join(', ')})`,
  },
  {
    name: 'TwiML Redirect URL naming a function the service lacks',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'hold').properties.url = 'https://__SERVICE_DOMAIN__/holding?jobId={{widgets.start_job.parsed.jobId}}';
    }),
    expected: `${VOICE}: state "hold", property "url": calls function "/holding", which the service does not have (it has: ${SERVICE_FUNCTIONS.join(', ')})`,
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
    file: VOICE,
    flow: voice((f) => {
      state(f, 'hold').properties.url = 'https://__SERVICE_DOMAIN__/hold?jobId={{widgets.start_job.parsed.jobId}}&request=x';
    }),
    expected: `${VOICE}: state "hold", property "url": query parameter "request" never reaches the function: the Functions runtime builds event as {request: {headers, cookies}, ...query, ...body}, so "request" collides with the runtime's own; rename it (e.g. "message")`,
  },
  {
    name: 'function SID placeholder for another function',
    file: VOICE,
    flow: voice((f) => {
      state(f, 'get_result').properties.function_sid = '__FUNCTION_SID_JOBS_START__';
    }),
    expected: `${VOICE}: state "get_result", property "function_sid": must be __FUNCTION_SID_JOBS_RESULT__ for url /jobs/result, got "__FUNCTION_SID_JOBS_START__"`,
  },
  {
    name: 'wrong initial_state',
    file: VOICE,
    flow: voice((f) => {
      f.initial_state = 'greeting';
    }),
    expected: `${VOICE}: flow, property "initial_state": names "greeting", but the Trigger state is "Trigger"`,
  },
  {
    name: 'Trigger not the first state',
    file: VOICE,
    flow: voice((f) => {
      f.states.push(f.states.shift()!);
    }),
    expected: `${VOICE}: state "greeting", property "type": the first state must be the Trigger, found "say-play"`,
  },
  {
    name: 'missing flags',
    file: VOICE,
    flow: voice((f) => {
      delete (f as Partial<FlowDefinition>).flags;
    }),
    expected: `${VOICE}: flow, property "flags": must be {"allow_concurrent_calls": true|false}, got nothing`,
  },
];

describe('the checker rejects broken flows', () => {
  it('has at least 12 distinct broken variants', () => {
    expect(new Set(variants.map((v) => v.expected)).size).toBe(variants.length);
    expect(variants.length).toBeGreaterThanOrEqual(12);
  });

  it.each(variants.map((v) => [v.name, v] as const))('%s', (_name, variant) => {
    const faults = checkFlow(variant.flow(), { fileName: variant.file, serviceFunctions: SERVICE_FUNCTIONS });
    const lines = faults.filter((f) => f.severity === 'error').map(formatFault);
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
      const ask = state(f, 'send_sorry');
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
        `(start_job -> route_start -> send_sorry -> start_job); each pass waits on the contact, but ${LIMIT}: ${FIX}`,
    );
  });
});
