/** Studio v2 Flows (create, update with revisions, validate, delete) through the helper library. */
import { rawTwilio, restError, useTestEmulator } from '../support/emulator';

interface Transition {
  event: string;
  next?: string;
}

function definition(sayText: string) {
  const transitions = (list: Transition[]) => list;
  return {
    description: 'test flow',
    states: [
      {
        name: 'Trigger',
        type: 'trigger',
        transitions: transitions([{ event: 'incomingCall', next: 'say' }]),
        properties: { offset: { x: 0, y: 0 } },
      },
      {
        name: 'say',
        type: 'say-play',
        transitions: transitions([{ event: 'audioComplete' }]),
        properties: { offset: { x: 0, y: 200 }, say: sayText, loop: 1 },
      },
    ],
    initial_state: 'Trigger',
    flags: { allow_concurrent_calls: true },
  };
}

describe('emulator: Studio flows', () => {
  const { emulator, client } = useTestEmulator();
  const flows = () => client.studio.v2.flows;

  it('creates a flow and stores every update as a new revision', async () => {
    const created = await flows().create({ friendlyName: 'Async job', status: 'draft', definition: definition('one') });
    expect(created.sid).toMatch(/^FW[0-9a-f]{32}$/);
    expect([created.revision, created.status, created.valid]).toEqual([1, 'draft', true]);
    expect(created.webhookUrl).toBe(
      `https://webhooks.twilio.com/v1/Accounts/${created.accountSid}/Flows/${created.sid}`,
    );

    const updated = await flows()(created.sid).update({
      status: 'published',
      definition: definition('two'),
      commitMessage: 'v2',
    });
    expect([updated.revision, updated.status, updated.commitMessage]).toEqual([2, 'published', 'v2']);
    expect(updated.friendlyName).toBe('Async job');
    await flows()(created.sid).update({ status: 'draft', friendlyName: 'Renamed' });

    const fetched = await flows()(created.sid).fetch();
    expect([fetched.revision, fetched.friendlyName, fetched.status]).toEqual([3, 'Renamed', 'draft']);
    expect((fetched.definition as ReturnType<typeof definition>).states[1].properties.say).toBe('two');

    const revisions = await flows()(created.sid).revisions.list();
    expect(revisions.map((r) => r.revision)).toEqual([3, 2, 1]);
    expect((await flows()(created.sid).revisions('LatestPublished').fetch()).revision).toBe(2);
    expect(
      ((await flows()(created.sid).revisions('1').fetch()).definition as ReturnType<typeof definition>).states[1]
        .properties.say,
    ).toBe('one');
    expect((await flows().list()).map((f) => f.sid)).toEqual([created.sid]);

    expect(await flows()(created.sid).remove()).toBe(true);
    const gone = await restError(flows()(created.sid).fetch());
    expect([gone.status, gone.code]).toEqual([404, 20404]);
    expect(emulator.stats()).toMatchObject({
      'studio.flows.create': 1,
      'studio.flows.update': 2,
      'studio.flows.fetch': 2,
      'studio.flowRevisions.list': 1,
      'studio.flowRevisions.fetch': 2,
      'studio.flows.list': 1,
      'studio.flows.remove': 1,
    });
  });

  it('validates a definition: valid, or a 400 that names each problem', async () => {
    const ok = await client.studio.v2.flowValidate.update({
      friendlyName: 'x',
      status: 'draft',
      definition: definition('hi'),
    });
    expect(ok.valid).toBe(true);

    const broken = definition('hi');
    broken.states[0].transitions[0].next = 'missing';
    broken.initial_state = 'say';
    const error = await restError(
      client.studio.v2.flowValidate.update({ friendlyName: 'x', status: 'draft', definition: broken }),
    );
    expect([error.status, error.code]).toEqual([400, 20001]);
    expect(error.details).toEqual({
      errors: [
        { message: 'next names unknown state "missing"', property_path: '#/states/0/transitions/0/next' },
        { message: 'initial_state must be the trigger state', property_path: '#/initial_state' },
      ],
    });
    // Creating a flow with it is refused the same way, and nothing is stored.
    await restError(flows().create({ friendlyName: 'x', status: 'draft', definition: broken }));
    expect(await flows().list()).toEqual([]);
  });

  it('refuses requests the spec forbids: missing required parameter, bad enum, unknown parameter', async () => {
    const missing = await rawTwilio(emulator.url, 'POST', '/studio/v2/Flows', { FriendlyName: 'x', Status: 'draft' });
    expect(missing.status).toBe(400);
    expect(missing.body?.message).toBe('SPEC_VIOLATION: CreateFlow: missing required form parameter "Definition"');

    const badStatus = await rawTwilio(emulator.url, 'POST', '/studio/v2/Flows/Validate', {
      FriendlyName: 'x',
      Status: 'live',
      Definition: JSON.stringify(definition('x')),
    });
    expect(badStatus.body?.message).toBe(
      'SPEC_VIOLATION: UpdateFlowValidate: form Status must be one of [draft, published]; got "live"',
    );

    const unknown = await rawTwilio(emulator.url, 'POST', '/studio/v2/Flows', {
      FriendlyName: 'x',
      Status: 'draft',
      Definition: JSON.stringify(definition('x')),
      Published: 'true',
    });
    expect(unknown.body?.message).toBe('SPEC_VIOLATION: CreateFlow: unknown form parameter "Published"');
    expect(emulator.violations().filter((v) => v.kind === 'request')).toHaveLength(3);
  });
});
