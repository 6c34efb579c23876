/**
 * Our flows against the service's public contract and the Studio rules they were designed for:
 * audio before any Function, the parameters each Function expects, a hold timeout above the
 * longest hold, statuses the service really returns, and loops far from Studio's 10-run limit.
 */
import { JOB_STATUSES, LIMITS, PATHS, START_CONTROL_PARAMS, START_NOTIFY_PARAMS, type Delivery } from '../../src/lib/contracts';
import { RETRY_OVERRIDES } from '../../src/lib/voice/hold-twiml';
import { keyValue, type FlowDefinition, type FlowState } from '../../studio/flow-model';
import { HOLD_SUBFLOW, loadFlow, MESSAGING_FLOW, state, VOICE_FLOW } from './flow-fixtures';

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

describe('voice-hold.json: a small parent that runs the hold subflow', () => {
  const flow = loadFlow(VOICE_FLOW);

  it('answers calls and speaks before the subflow runs a Function', () => {
    const trigger = state(flow, 'Trigger');
    const first = trigger.transitions.find((t) => t.event === 'incomingCall')?.next as string;
    expect(state(flow, first).type).toBe('say-play');
    expect(state(flow, first).transitions[0]!.next).toBe('hold_call');
    expect(flow.states.filter((s) => s.type === 'run-function')).toEqual([]);
  });

  it('runs flows/hold-subflow.json by its placeholder, with the task and its own Flow SID', () => {
    const run = state(flow, 'hold_call');
    expect(run.type).toBe('run-subflow');
    expect(run.properties.flow_sid).toBe('__FLOW_SID_HOLD_SUBFLOW__');
    expect(run.properties.flow_revision).toBe('LatestPublished');
    expect(param(run, 'task')).toBe('demo');
    // The hold returns the call to the parent's webhook: the flow the call's execution belongs to.
    expect(param(run, 'flowSid')).toBe('{{flow.flow_sid}}');
    expect(param(run, 'wait')).toBe('2');
    expect(param(run, 'maxHoldSeconds')).toBe('120');
    expect(run.transitions.map((t) => [t.event, t.next])).toEqual([
      ['completed', 'route_outcome'],
      ['failed', 'say_sorry'],
    ]);
  });

  it('says the result the subflow hands back, or the apology; no second word after Flex took the call', () => {
    expect(state(flow, 'route_outcome').properties.input).toBe('{{widgets.hold_call.status}}');
    expect(state(flow, 'route_outcome').transitions.find((t) => t.event === 'match')).toMatchObject({ next: 'say_result', conditions: [{ value: 'COMPLETED' }] });
    expect(state(flow, 'say_result').properties.say).toBe('{{widgets.hold_call.message | default: "Your request is complete."}}');
    const agent = state(flow, 'check_agent');
    expect(agent.transitions.find((t) => t.event === 'match')).toMatchObject({ conditions: [{ value: 'connected' }] });
    expect(agent.transitions.find((t) => t.event === 'match')?.next).toBeUndefined();
    expect(agent.transitions.find((t) => t.event === 'noMatch')?.next).toBe('say_sorry');
  });
});

describe('hold-subflow.json: the hold pattern behind one Run Subflow widget', () => {
  const flow = loadFlow(HOLD_SUBFLOW);
  const parent = (key: string) => `trigger.parent.parameters.${key}`;

  it('starts only as a subflow', () => {
    const trigger = state(flow, 'Trigger');
    expect(trigger.transitions.filter((t) => t.next).map((t) => [t.event, t.next])).toEqual([['incomingParent', 'start_job']]);
  });

  it("starts the job with the contract parameters, from the parent's", () => {
    const start = state(flow, 'start_job');
    expect(callers(flow, PATHS.start).map((s) => s.name)).toEqual(['start_job']);
    for (const key of START_CONTROL_PARAMS) expect(param(start, key)).toBeDefined();
    expect(param(start, 'task')).toBe(`{{${parent('task')}}}`);
    expect(param(start, 'input')).toBe(`{{${parent('input')}}}`);
    expect(param(start, 'idempotencyKey')).toBe(`{% if ${parent('idempotencyKey')} %}{{${parent('idempotencyKey')}}}{% else %}{{flow.sid}}-{{${parent('task')}}}{% endif %}`);
    expect(param(start, 'wait')).toBe(`{{${parent('wait')} | default: "2"}}`);
    expect(param(start, 'maxHoldSeconds')).toBe(`{{${parent('maxHoldSeconds')} | default: "120"}}`);
    expect(LIMITS.startWaitSeconds).toBeGreaterThanOrEqual(2);
  });

  it("holds the caller through /hold, returning to the parent's flow, with a timeout the service always beats", () => {
    const hold = state(flow, 'hold');
    expect(hold.type).toBe('add-twiml-redirect');
    expect(hold.properties.method).toBe('POST');
    // The fragment asks Voice to retry a refused /hold (a Functions service past its concurrency
    // limit); it is the service's own RETRY_OVERRIDES (src/lib/voice/hold-twiml.ts).
    expect(hold.properties.url).toBe(
      `${SERVICE}${PATHS.hold}?jobId={{widgets.start_job.parsed.jobId}}&flowSid={{${parent('flowSid')} | default: flow.flow_sid}}#${RETRY_OVERRIDES}`,
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

  it('hands back status, message, jobId and the reply body when the job finished within the start wait', () => {
    const route = state(flow, 'route_start');
    expect(route.properties.input).toBe('{{widgets.start_job.parsed.status}}');
    expect(route.transitions.find((t) => t.conditions?.[0].value === 'COMPLETED')?.next).toBe('set_completed_fast');
    const set = state(flow, 'set_completed_fast').properties.variables;
    expect(keyValue(set, 'status')).toBe('COMPLETED');
    expect(keyValue(set, 'message')).toBe('{{widgets.start_job.parsed.result.message}}');
    expect(keyValue(set, 'jobId')).toBe('{{widgets.start_job.parsed.jobId}}');
    expect(keyValue(set, 'resultBody')).toBe('{{widgets.start_job.body}}');
  });

  it('reads the result after the hold and hands it back', () => {
    const getResult = state(flow, 'get_result');
    expect(callers(flow, PATHS.result).map((s) => s.name)).toEqual(['get_result']);
    expect(param(getResult, 'jobId')).toBe('{{widgets.start_job.parsed.jobId}}');
    const set = state(flow, 'set_completed').properties.variables;
    expect(keyValue(set, 'status')).toBe('COMPLETED');
    expect(keyValue(set, 'message')).toBe('{{widgets.get_result.parsed.result.message}}');
    expect(keyValue(set, 'resultBody')).toBe('{{widgets.get_result.body}}');
  });

  it('hands back the final status when the job did not complete', () => {
    for (const name of ['set_not_completed', 'set_agent']) {
      expect(keyValue(state(flow, name).properties.variables, 'status')).toBe(
        '{% if widgets.get_result.parsed.status %}{{widgets.get_result.parsed.status}}{% elsif widgets.start_job.parsed.status %}{{widgets.start_job.parsed.status}}{% else %}UNAVAILABLE{% endif %}',
      );
    }
    expect(keyValue(state(flow, 'set_agent').properties.variables, 'agent')).toBe('connected');
  });

  it('compares only statuses the service returns', () => {
    const values = statusValues(flow);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(JOB_STATUSES).toContain(value);
  });

  it('retries with a counter that stops far below Studio limit', () => {
    for (const name of ['check_start_retries', 'check_hold_retries', 'check_result_retries']) {
      const check = state(flow, name);
      expect(check.properties.input).toBe('{{flow.variables.retries}}');
      expect(counterPasses(check)).toBeLessThanOrEqual(3);
    }
    expect(keyValue(state(flow, 'retry_hold').properties.variables, 'retries')).toBe(
      '{% if flow.variables.retries %}{{flow.variables.retries | plus: 1}}{% else %}1{% endif %}',
    );
  });

  it('offers Send to Flex only once the deploy step sets a Workflow SID', () => {
    const offer = state(flow, 'offer_agent');
    expect(offer.properties.input).toBe('__FLEX_WORKFLOW_SID__');
    const match = offer.transitions.find((t) => t.event === 'match');
    expect(match?.conditions?.[0]).toMatchObject({ type: 'starts_with', value: 'WW' });
    expect(state(flow, 'send_to_agent').properties.workflow).toBe('__FLEX_WORKFLOW_SID__');
    expect(offer.transitions.find((t) => t.event === 'noMatch')?.next).toBe('set_not_completed');
  });
});

describe('messaging.json', () => {
  const flow = loadFlow(MESSAGING_FLOW);
  const sends = (flowState: FlowState) => flow.states.filter((s) => s.type === 'send-message' && s.name === flowState.name);

  it('starts on an incoming message or conversation message', () => {
    const trigger = state(flow, 'Trigger');
    expect(trigger.transitions.find((t) => t.event === 'incomingMessage')?.next).toBe('start_job');
    expect(trigger.transitions.find((t) => t.event === 'incomingConversationMessage')?.next).toBe('start_job');
    const start = state(flow, 'start_job');
    expect(param(start, 'wait')).toBe('0');
    expect(param(start, 'idempotencyKey')).toBe('{{flow.sid}}');
  });

  it('names its own flow, the contact and its address for a delivery execution, for an SMS only', () => {
    const start = state(flow, 'start_job');
    const guarded = (value: string) => `{% if trigger.message %}${value}{% endif %}`;
    expect(START_NOTIFY_PARAMS.map((key) => param(start, key))).toEqual([
      guarded('{{flow.flow_sid}}'),
      guarded('{{contact.channel.address}}'),
      guarded('{{flow.channel.address}}'),
    ]);
  });

  it('ends after "the answer follows" when the service will start the execution, before looking at the status', () => {
    expect(state(flow, 'start_job').transitions.find((t) => t.event === 'success')?.next).toBe('route_delivery');
    const route = state(flow, 'route_delivery');
    const execution: Delivery = 'execution';
    expect(route.properties.input).toBe('{{widgets.start_job.parsed.delivery}}');
    expect(route.transitions.find((t) => t.event === 'match')).toMatchObject({ next: 'send_working_async', conditions: [{ type: 'equal_to', value: execution }] });
    expect(route.transitions.find((t) => t.event === 'noMatch')?.next).toBe('route_start');
    const working = state(flow, 'send_working_async');
    expect(working.type).toBe('send-message');
    expect(working.transitions.every((t) => t.next === undefined)).toBe(true);
  });

  it('texts the outcome a REST-started execution carries in flow.data, addressed without trigger.message', () => {
    expect(state(flow, 'Trigger').transitions.find((t) => t.event === 'incomingRequest')?.next).toBe('route_outcome');
    const route = state(flow, 'route_outcome');
    expect(route.properties.input).toBe('{{flow.data.status}}');
    expect(route.transitions.find((t) => t.event === 'match')).toMatchObject({ next: 'send_outcome', conditions: [{ value: 'COMPLETED' }] });
    expect(route.transitions.find((t) => t.event === 'noMatch')?.next).toBe('send_outcome_sorry');
    expect(state(flow, 'send_outcome').properties.body).toBe('{{flow.data.result.message | default: "Your request is complete."}}');
    expect(String(state(flow, 'send_outcome_sorry').properties.body)).toContain('{{flow.data.error.message}}');
    for (const name of ['send_outcome', 'send_outcome_sorry']) {
      const send = sends(state(flow, name))[0]!;
      expect(send.properties).toMatchObject({ from: '{{flow.channel.address}}', to: '{{contact.channel.address}}' });
      expect(JSON.stringify(send.properties)).not.toContain('trigger.');
      expect(send.transitions.every((t) => t.next === undefined)).toBe(true);
    }
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
