/**
 * Studio v2 Executions in the emulator, through the helper library (every request and reply
 * checked against twilio_studio_v2.json), the one-active rule under both values of
 * executionCreateEndsActiveExecution, and the control API the flow runner uses.
 */
import { BUILT_IN_PROFILES } from '../../emulator/twilio-behaviour';
import { control, rawTwilio, responseViolations, restError, useTestEmulator } from '../support/emulator';

const CONTACT = '+15005550006';
const NUMBER = '+15005550001';
const DEFINITION = {
  description: 'executions test',
  initial_state: 'Trigger',
  flags: { allow_concurrent_calls: true },
  states: [
    {
      name: 'Trigger',
      type: 'trigger',
      transitions: [{ event: 'incomingRequest' }],
      properties: { offset: { x: 0, y: 0 } },
    },
  ],
};

describe('emulator: Studio executions', () => {
  const { emulator, client } = useTestEmulator({}, { violations: 'all' });
  let flowSid: string;
  const executions = () => client.studio.v2.flows(flowSid).executions;

  beforeEach(async () => {
    flowSid = (
      await client.studio.v2.flows.create({ friendlyName: 'messaging', status: 'published', definition: DEFINITION })
    ).sid;
  });

  it('creates an execution with Parameters as flow.data; fetch, list, the context and ending it', async () => {
    const created = await executions().create({
      to: CONTACT,
      from: NUMBER,
      parameters: { jobId: 'JB1', status: 'COMPLETED', result: { message: 'hi' } },
    });
    expect(created).toMatchObject({
      sid: expect.stringMatching(/^FN[0-9a-f]{32}$/),
      flowSid,
      contactChannelAddress: CONTACT,
      status: 'active',
    });
    expect(created.links).toEqual({ steps: `${created.url}/Steps`, execution_context: `${created.url}/Context` });
    expect((await executions()(created.sid).fetch()).status).toBe('active');
    const context = await executions()(created.sid).executionContext().fetch();
    expect(context.executionSid).toBe(created.sid);
    expect(context.context).toMatchObject({
      flow: {
        data: { jobId: 'JB1', status: 'COMPLETED', result: { message: 'hi' } },
        flow_sid: flowSid,
        channel: { address: NUMBER },
      },
      contact: { channel: { address: CONTACT } },
      trigger: { request: { To: CONTACT, From: NUMBER } },
    });
    const listed = await executions().list({ dateCreatedFrom: new Date(Date.now() - 60_000) });
    expect(listed.map((e) => e.sid)).toEqual([created.sid]);
    expect(await executions().list({ dateCreatedFrom: new Date(Date.now() + 60_000) })).toEqual([]);
    expect((await executions()(created.sid).update({ status: 'ended' })).status).toBe('ended');
    expect(emulator.stats()).toMatchObject({
      'studio.executions.create': 1,
      'studio.executions.fetch': 1,
      'studio.executions.list': 2,
      'studio.executions.update': 1,
      'studio.executionContext.fetch': 1,
    });
  });

  it('refuses what Studio refuses: an unknown flow (404), Parameters that are no JSON object (400), a request without To (spec)', async () => {
    expect(
      await restError(client.studio.v2.flows(`FW${'9'.repeat(32)}`).executions.create({ to: CONTACT, from: NUMBER })),
    ).toMatchObject({ status: 404, code: 20404 });
    const path = `/studio/v2/Flows/${flowSid}/Executions`;
    expect(
      await rawTwilio(emulator.url, 'POST', path, { To: CONTACT, From: NUMBER, Parameters: '{not json' }),
    ).toMatchObject({ status: 400, body: { code: 20001 } });
    expect(await rawTwilio(emulator.url, 'POST', path, { To: CONTACT, From: NUMBER, Parameters: '[1]' })).toMatchObject(
      { status: 400, body: { code: 20001 } },
    );
    const missing = await rawTwilio(emulator.url, 'POST', path, { From: NUMBER });
    expect(missing.status).toBe(400);
    expect(String(missing.body?.message)).toMatch(/^SPEC_VIOLATION: .*To/);
    expect(await restError(executions()(`FN${'1'.repeat(32)}`).fetch())).toMatchObject({ status: 404 });
    expect(emulator.state().executions).toEqual([]);
    expect(responseViolations(emulator)).toEqual([]);
    emulator.reset(); // the refused request is a recorded (request) violation on purpose
  });

  it('documented: a create for a contact with an active execution in the flow is refused (409 / 20409), nothing changes', async () => {
    const first = await executions().create({ to: CONTACT, from: NUMBER });
    const refused = await restError(executions().create({ to: CONTACT, from: NUMBER, parameters: { n: 2 } }));
    expect(refused).toMatchObject({ status: 409, code: 20409 });
    expect(refused.message).toContain(`Execution ${first.sid} is already active for this contact`);
    expect(emulator.state().executions.map((e) => [e.sid, e.status])).toEqual([[first.sid, 'active']]);
    // Another contact, or the same contact once the first has ended, is fine.
    await executions().create({ to: '+15005550007', from: NUMBER });
    await executions()(first.sid).update({ status: 'ended' });
    expect((await executions().create({ to: CONTACT, from: NUMBER })).status).toBe('active');
  });

  it("hopeful: the create ends the contact's active execution and starts the new one", async () => {
    emulator.setBehaviour(BUILT_IN_PROFILES.hopeful);
    const first = await executions().create({ to: CONTACT, from: NUMBER });
    const second = await executions().create({ to: CONTACT, from: NUMBER, parameters: { n: 2 } });
    expect((await executions()(first.sid).fetch()).status).toBe('ended');
    expect(second.status).toBe('active');
    expect((await control(emulator.url, 'GET', `/executions/${first.sid}`)).body).toMatchObject({
      status: 'ended',
      endedBy: 'replaced',
    });
  });

  it('an inbound execution the runner registers holds the rule too; the runner claims and ends REST-created ones', async () => {
    const inbound = await control(emulator.url, 'POST', '/executions', {
      flowSid,
      contact: CONTACT,
      flowAddress: NUMBER,
      trigger: 'incomingMessage',
    });
    expect(inbound).toMatchObject({ status: 200, body: { status: 'active' } });
    const sid = String(inbound.body.executionSid);
    // The contact is mid-conversation: Studio refuses the create (documented) ...
    expect(await restError(executions().create({ to: CONTACT, from: NUMBER }))).toMatchObject({ status: 409 });
    // ... and starts no second inbound one either.
    expect(
      await control(emulator.url, 'POST', '/executions', {
        flowSid,
        contact: CONTACT,
        flowAddress: NUMBER,
        trigger: 'incomingMessage',
      }),
    ).toMatchObject({ status: 409, body: { activeExecutionSid: sid } });
    expect((await control(emulator.url, 'POST', `/executions/${sid}/end`)).body).toMatchObject({
      status: 'ended',
      endedBy: 'flow-ended',
    });

    const waiting = control(
      emulator.url,
      'GET',
      `/executions?flowSid=${flowSid}&contact=${encodeURIComponent(CONTACT)}&timeoutMs=5000`,
    );
    const created = await executions().create({ to: CONTACT, from: NUMBER, parameters: { jobId: 'JB2' } });
    expect((await waiting).body.executions).toEqual([
      expect.objectContaining({
        executionSid: created.sid,
        startedBy: 'rest',
        trigger: 'incomingRequest',
        data: { jobId: 'JB2' },
        claimed: false,
      }),
    ]);
    expect((await control(emulator.url, 'POST', `/executions/${created.sid}/claim`)).body).toMatchObject({
      claimed: true,
      contact: CONTACT,
      flowAddress: NUMBER,
    });
    expect((await control(emulator.url, 'POST', `/executions/${created.sid}/claim`)).status).toBe(409);
    expect((await control(emulator.url, 'GET', `/executions?flowSid=${flowSid}&timeoutMs=0`)).body.executions).toEqual(
      [],
    );
    expect((await control(emulator.url, 'POST', `/executions/${created.sid}/end`)).body).toMatchObject({
      status: 'ended',
    });
    expect((await control(emulator.url, 'POST', `/executions/${created.sid}/end`)).body).toMatchObject({
      alreadyEnded: true,
    });
  });

  it('a flow the runner registers an execution for exists for the REST API under its own SID; bad bodies are 400', async () => {
    const adopted = `FW${'4'.repeat(32)}`;
    /** A call into the adopted flow, registered by the runner. */
    const register = (more: object = {}) =>
      control(emulator.url, 'POST', '/executions', {
        flowSid: adopted,
        contact: CONTACT,
        flowAddress: NUMBER,
        trigger: 'incomingCall',
        concurrent: true,
        ...more,
      });
    expect((await register({ definition: DEFINITION })).status).toBe(200);
    expect((await client.studio.v2.flows(adopted).fetch()).sid).toBe(adopted);
    // A call into a flow that allows concurrent calls is not held to one execution.
    expect((await register()).status).toBe(200);
    for (const body of [
      {},
      { flowSid: 'nope', contact: CONTACT, flowAddress: NUMBER, trigger: 'incomingMessage' },
      { flowSid: adopted, contact: CONTACT, flowAddress: NUMBER, trigger: 'message' },
    ]) {
      expect((await control(emulator.url, 'POST', '/executions', body)).status).toBe(400);
    }
  });
});
