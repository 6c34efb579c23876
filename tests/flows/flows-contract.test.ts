/**
 * Our flows against the service's public contract and the Studio rules they were designed for:
 * audio before any Function, the parameters each Function expects, a hold timeout above the
 * longest hold, statuses the service really returns, and loops far from Studio's 10-run limit.
 */
import { JOB_STATUSES, LIMITS, PATHS, START_CONTROL_PARAMS } from '../../src/lib/contracts';
import { keyValue, type FlowDefinition, type FlowState } from '../../studio/flow-model';
import { loadFlow, MESSAGING_FLOW, state, VOICE_FLOW } from './flow-fixtures';

const SERVICE = 'https://__SERVICE_DOMAIN__';

function callers(flow: FlowDefinition, functionPath: string): FlowState[] {
  return flow.states.filter(
    (s) => s.type === 'run-function' && String(s.properties.url).split('?')[0] === `${SERVICE}${functionPath}`,
  );
}

function param(s: FlowState, key: string): string | undefined {
  return keyValue(s.properties.parameters, key);
}

/** Values a split compares `widgets.X.parsed.status` with. */
function statusValues(flow: FlowDefinition): string[] {
  return flow.states
    .filter((s) => s.type === 'split-based-on' && /parsed\.status/.test(String(s.properties.input)))
    .flatMap((s) => s.transitions.flatMap((t) => (t.conditions ?? []).map((c) => c.value)));
}

/** Passes a counter split allows: "count > N" leaves on pass N+1. */
function counterPasses(s: FlowState): number {
  const exit = s.transitions.find((t) => t.event === 'match');
  const condition = exit?.conditions?.[0];
  expect(condition?.type).toBe('greater_than');
  return Number(condition?.value) + 1;
}

describe('voice-hold.json', () => {
  const flow = loadFlow(VOICE_FLOW);

  it('answers calls and speaks before any Function runs', () => {
    const trigger = state(flow, 'Trigger');
    const first = trigger.transitions.find((t) => t.event === 'incomingCall')?.next as string;
    expect(state(flow, first).type).toBe('say-play');
    // No path from the Trigger reaches a Function without passing a Say/Play first.
    const reached = new Set<string>([trigger.name]);
    const queue = [first];
    const silent: string[] = [];
    while (queue.length > 0) {
      const s = state(flow, queue.shift() as string);
      if (s.type === 'say-play' || reached.has(s.name)) continue;
      reached.add(s.name);
      if (s.type === 'run-function') silent.push(s.name);
      for (const t of s.transitions) if (t.next) queue.push(t.next);
    }
    expect(silent).toEqual([]);
  });

  it('starts the job with the contract parameters', () => {
    const start = state(flow, 'start_job');
    expect(callers(flow, PATHS.start).map((s) => s.name)).toEqual(['start_job']);
    for (const key of START_CONTROL_PARAMS) expect(param(start, key)).toBeDefined();
    expect(param(start, 'idempotencyKey')).toBe('{{flow.sid}}');
    expect(param(start, 'wait')).toBe('2');
    expect(Number(param(start, 'wait'))).toBeLessThanOrEqual(LIMITS.startWaitSeconds);
    expect(param(start, 'maxHoldSeconds')).toBe('120');
    expect(param(start, 'task')).toBe('demo');
  });

  it('holds the caller through /hold with a timeout the service always beats', () => {
    const hold = state(flow, 'hold');
    expect(hold.type).toBe('add-twiml-redirect');
    expect(hold.properties.method).toBe('POST');
    expect(hold.properties.url).toBe(
      `${SERVICE}${PATHS.hold}?jobId={{widgets.start_job.parsed.jobId}}&flowSid={{flow.flow_sid}}`,
    );
    expect(hold.properties.timeout).toBe('3900');
    // The service releases the caller by the deadline (at most LIMITS.maxHoldSeconds) plus one
    // hold-loop turn (~10 s); Studio's timer must not cut in first, whatever maxHoldSeconds a
    // user sets, and must stay within Studio's 0..14400.
    const holdLoopTurnSeconds = 10;
    const margin = 120;
    expect(Number(hold.properties.timeout)).toBeGreaterThanOrEqual(LIMITS.maxHoldSeconds + holdLoopTurnSeconds + margin);
    expect(Number(hold.properties.timeout)).toBeLessThanOrEqual(14400);
  });

  it('never takes a path Twilio cannot produce: fail reads the job like return and timeout', () => {
    // A failed fetch of the TwiML Redirect URL is Voice's (Fallback URL or application error),
    // never the widget's fail, so fail must not mean "try /hold again".
    const hold = state(flow, 'hold');
    expect(hold.transitions.map((t) => [t.event, t.next])).toEqual([
      ['return', 'get_result'],
      ['timeout', 'get_result'],
      ['fail', 'get_result'],
    ]);
    // retry_hold is entered only when /jobs/result says the job still runs.
    const intoRetryHold = flow.states.flatMap((s) => s.transitions.filter((t) => t.next === 'retry_hold').map(() => s.name));
    expect(intoRetryHold).toEqual(['route_result']);
  });

  it('takes the fast path when the job finished within the start wait', () => {
    const route = state(flow, 'route_start');
    expect(route.properties.input).toBe('{{widgets.start_job.parsed.status}}');
    const completed = route.transitions.find((t) => t.conditions?.[0].value === 'COMPLETED');
    expect(completed?.next).toBe('say_result_fast');
    expect(state(flow, 'say_result_fast').properties.say).toBe('{{widgets.start_job.parsed.result.message | default: "Your request is complete."}}');
  });

  it('reads the result after the hold and says it', () => {
    const getResult = state(flow, 'get_result');
    expect(callers(flow, PATHS.result).map((s) => s.name)).toEqual(['get_result']);
    expect(param(getResult, 'jobId')).toBe('{{widgets.start_job.parsed.jobId}}');
    expect(state(flow, 'say_result').properties.say).toBe('{{widgets.get_result.parsed.result.message | default: "Your request is complete."}}');
  });

  it('compares only statuses the service returns', () => {
    const values = statusValues(flow);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(JOB_STATUSES).toContain(value);
  });

  it('retries with a counter that stops far below Studio limit', () => {
    for (const name of ['check_start_retries', 'check_hold_retries', 'check_result_retries']) {
      const check = state(flow, name);
      expect(check.properties.input).toBe('{{flow.variables.count}}');
      expect(counterPasses(check)).toBeLessThanOrEqual(3);
    }
    expect(keyValue(state(flow, 'retry_hold').properties.variables, 'count')).toBe(
      '{% if flow.variables.count %}{{flow.variables.count | plus: 1}}{% else %}1{% endif %}',
    );
  });

  it('offers Send to Flex only once the deploy step sets a Workflow SID', () => {
    const offer = state(flow, 'offer_agent');
    expect(offer.properties.input).toBe('__FLEX_WORKFLOW_SID__');
    const match = offer.transitions.find((t) => t.event === 'match');
    expect(match?.conditions?.[0]).toMatchObject({ type: 'starts_with', value: 'WW' });
    expect(state(flow, 'send_to_agent').properties.workflow).toBe('__FLEX_WORKFLOW_SID__');
    expect(offer.transitions.find((t) => t.event === 'noMatch')?.next).toBe('goodbye_sorry');
  });
});

describe('messaging-poll.json', () => {
  const flow = loadFlow(MESSAGING_FLOW);

  it('starts on an incoming message or conversation message', () => {
    const trigger = state(flow, 'Trigger');
    expect(trigger.transitions.find((t) => t.event === 'incomingMessage')?.next).toBe('start_job');
    expect(trigger.transitions.find((t) => t.event === 'incomingConversationMessage')?.next).toBe('start_job');
    const start = state(flow, 'start_job');
    expect(param(start, 'wait')).toBe('4');
    expect(param(start, 'idempotencyKey')).toBe('{{flow.sid}}');
  });

  it('long-polls /jobs/status within its limit', () => {
    const poll = state(flow, 'wait_for_job');
    expect(callers(flow, PATHS.status).map((s) => s.name)).toEqual(['wait_for_job']);
    expect(param(poll, 'wait')).toBe('6');
    expect(Number(param(poll, 'wait'))).toBeLessThanOrEqual(LIMITS.statusWaitSeconds);
  });

  it('stops polling well before Studio ends the execution', () => {
    const passes = counterPasses(state(flow, 'check_polls'));
    expect(passes).toBeLessThanOrEqual(6);
    // Each poll waits up to 6 s: the job's deadline must pass before the flow gives up, so the
    // last poll sees a final status.
    const maxHold = Number(param(state(flow, 'start_job'), 'maxHoldSeconds'));
    expect(maxHold).toBeGreaterThanOrEqual(LIMITS.minHoldSeconds);
    expect(maxHold).toBeLessThan(passes * Number(param(state(flow, 'wait_for_job'), 'wait')));
  });

  it('texts the result with Send Message', () => {
    const send = state(flow, 'send_result');
    expect(send.type).toBe('send-message');
    expect(send.properties.body).toBe('{{widgets.get_result.parsed.result.message | default: "Your request is complete."}}');
    expect(send.properties.to).toBe('{{contact.channel.address}}');
  });

  it('compares only statuses the service returns', () => {
    for (const value of statusValues(flow)) expect(JOB_STATUSES).toContain(value);
  });
});
