/**
 * Conferences and calls: the simulated caller joins and hangs up through the control API, the
 * service side uses the real helper library, status callbacks land on a local HTTP server.
 */
import twilio from 'twilio';
import { newSid } from '../../emulator/sids';
import { BUILT_IN_PROFILES } from '../../emulator/twilio-behaviour';
import { TEST_AUTH_TOKEN } from '../../dev/emulator-client';
import {
  ACCOUNT_SID,
  control,
  ManualClock,
  rawTwilio,
  restError,
  startCallbackReceiver,
  useTestEmulator,
  type EmulatorClient,
} from '../support/emulator';
import { waitFor } from '../support/wait';

describe('emulator: conferences, calls and the control API', () => {
  const clock = new ManualClock();
  const { emulator, client, receiver } = useTestEmulator(
    { clock: clock.now, authToken: TEST_AUTH_TOKEN },
    { receiver: true },
  );

  const join = (body: Record<string, unknown>) => control(emulator.url, 'POST', '/conferences/join', body);
  /** A conference that has started: two participants, the second a moderator (the default). */
  const startedRoom = async (friendlyName: string, first: Record<string, unknown> = {}) => {
    const joined = await join({ friendlyName, ...first });
    const second = await join({ friendlyName });
    expect(second.body.conferenceStatus).toBe('in-progress');
    return joined;
  };

  it('keeps a conference in init while only waiting participants are in it, then in-progress', async () => {
    const caller = newSid('CA');
    const joined = await join({ friendlyName: 'hold_job1', callSid: caller, startConferenceOnEnter: false });
    expect(joined).toEqual({
      status: 200,
      body: { conferenceSid: expect.stringMatching(/^CF[0-9a-f]{32}$/), callSid: caller, conferenceStatus: 'init' },
    });
    const sid = String(joined.body.conferenceSid);
    expect((await client.conferences(sid).fetch()).status).toBe('init');
    expect(
      (await client.conferences(sid).participants.list()).map((p) => [p.callSid, p.startConferenceOnEnter]),
    ).toEqual([[caller, false]]);

    const agent = await join({ friendlyName: 'hold_job1' });
    expect(agent.body).toMatchObject({ conferenceSid: sid, conferenceStatus: 'in-progress' });
    const conference = await client.conferences(sid).fetch();
    expect(conference.status).toBe('in-progress');
    expect(conference.reasonConferenceEnded).toBeNull();
    expect(conference.dateCreated.getTime()).toBe(Math.floor(clock.ms / 1000) * 1000);
  });

  it('ends a conference by REST: every participant is released and the callbacks are posted', async () => {
    // The caller waits alone in a room that has not started: only the hopeful profile lets REST end it (V2).
    emulator.setBehaviour(BUILT_IN_PROFILES.hopeful);
    const callback = `${receiver.url}/conference-events`;
    const caller = newSid('CA');
    const joined = await join({
      friendlyName: 'hold_job2',
      callSid: caller,
      startConferenceOnEnter: false,
      statusCallback: callback,
      statusCallbackEvent: ['start', 'end', 'join', 'leave'],
    });
    const sid = String(joined.body.conferenceSid);
    const waiting = control(emulator.url, 'GET', `/calls/${caller}/released?timeoutMs=5000`);

    const ended = await client.conferences(sid).update({ status: 'completed' });
    expect(ended.status).toBe('completed');
    expect(ended.reasonConferenceEnded).toBe('conference-ended-via-api');
    expect((await waiting).body).toEqual({ released: true, seq: 1, reason: 'conference-ended', conferenceSid: sid });

    await waitFor(() => receiver.received.length >= 3);
    expect(receiver.events('/conference-events')).toEqual(['participant-join', 'participant-leave', 'conference-end']);
    const [joinEvent, leave, end] = receiver.received;
    expect(leave.params).toMatchObject({
      AccountSid: ACCOUNT_SID,
      ConferenceSid: sid,
      FriendlyName: 'hold_job2',
      CallSid: caller,
      StatusCallbackEvent: 'participant-leave',
      StartConferenceOnEnter: 'false',
      SequenceNumber: '2',
    });
    expect(leave.params.Timestamp).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(end.params).toMatchObject({
      StatusCallbackEvent: 'conference-end',
      ReasonConferenceEnded: 'conference-ended-via-api',
    });
    expect(joinEvent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    // Signed like Twilio signs webhooks, with the auth token given to the emulator.
    expect(
      twilio.validateRequest(TEST_AUTH_TOKEN, String(end.headers['x-twilio-signature']), callback, end.params),
    ).toBe(true);

    // Ending it again is refused; the conference stays listable as completed.
    const again = await restError(client.conferences(sid).update({ status: 'completed' }));
    expect([again.status, again.code]).toEqual([400, 16099]);
    expect(
      (await client.conferences.list({ friendlyName: 'hold_job2', status: 'completed' })).map((c) => c.sid),
    ).toEqual([sid]);
    expect(await client.conferences(sid).participants.list()).toEqual([]);
  });

  it('a caller hanging up is the last participant leaving: leave and end callbacks', async () => {
    const caller = newSid('CA');
    const joined = await join({
      friendlyName: 'hold_job3',
      callSid: caller,
      statusCallback: `${receiver.url}/cb`,
      statusCallbackEvent: 'leave end',
    });
    const hangup = await control(emulator.url, 'POST', `/calls/${caller}/hangup`);
    expect(hangup.body).toEqual({ callSid: caller, status: 'completed' });
    await waitFor(() => receiver.received.length >= 2);
    expect(receiver.events()).toEqual(['participant-leave', 'conference-end']);
    expect(receiver.received[1].params).toMatchObject({
      ReasonConferenceEnded: 'last-participant-left',
      CallSidEndingConference: caller,
    });

    const conference = await client.conferences(String(joined.body.conferenceSid)).fetch();
    expect([conference.status, conference.callSidEndingConference]).toEqual(['completed', caller]);
    const call = await client.calls(caller).fetch();
    expect(call.status).toBe('completed');
    expect((await control(emulator.url, 'GET', `/calls/${caller}/released?timeoutMs=0`)).body).toMatchObject({
      released: true,
      reason: 'caller-hangup',
    });
    // A call that ended cannot be redirected or hung up again.
    const redirect = await restError(client.calls(caller).update({ twiml: '<Response><Hangup/></Response>' }));
    expect([redirect.status, redirect.code]).toEqual([400, 21220]);
    expect((await control(emulator.url, 'POST', `/calls/${caller}/hangup`)).status).toBe(409);
  });

  it('redirecting a call by REST releases it from its conference with the new TwiML', async () => {
    const caller = newSid('CA');
    await join({ friendlyName: 'hold_job4', callSid: caller, startConferenceOnEnter: false });
    const twiml =
      '<Response><Redirect>https://webhooks.twilio.com/v1/Accounts/AC/Flows/FW?FlowEvent=return</Redirect></Response>';
    const waiting = control(emulator.url, 'GET', `/calls/${caller}/released?timeoutMs=5000`);
    const call = await client.calls(caller).update({ twiml });
    expect(call.status).toBe('in-progress');
    expect((await waiting).body).toMatchObject({ released: true, reason: 'call-redirected', twiml });
    // The caller was the only participant, so the conference is over.
    expect(await client.conferences.list({ friendlyName: 'hold_job4', status: 'in-progress' })).toEqual([]);
    expect(
      (await client.conferences.list({ friendlyName: 'hold_job4', status: 'completed' }))[0].reasonConferenceEnded,
    ).toBe('last-participant-left');
    // The same call may join a room again afterwards.
    expect((await join({ friendlyName: 'hold_job4', callSid: caller })).status).toBe(200);
  });

  it('answers the release long-poll with released:false at its timeout', async () => {
    const caller = newSid('CA');
    await join({ friendlyName: 'hold_job5', callSid: caller });
    const started = Date.now();
    expect((await control(emulator.url, 'GET', `/calls/${caller}/released?timeoutMs=50`)).body).toEqual({
      released: false,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('filters the conference list by name, status and creation date; one room name, several conferences', async () => {
    const first = await startedRoom('room_a');
    await client.conferences(String(first.body.conferenceSid)).update({ status: 'completed' });
    clock.advance(86_400_000);
    const second = await join({ friendlyName: 'room_a', startConferenceOnEnter: false });
    const other = await startedRoom('room_b');
    expect(second.body.conferenceSid).not.toBe(first.body.conferenceSid);

    const sids = async (params: Parameters<EmulatorClient['conferences']['list']>[0]) =>
      (await client.conferences.list(params)).map((c) => c.sid);
    expect(await sids({ friendlyName: 'room_a', status: 'completed' })).toEqual([first.body.conferenceSid]);
    // Rooms waiting to start are listable by Status=init only in the hopeful profile (V12).
    expect(await sids({ friendlyName: 'room_a', status: 'init' })).toEqual([]);
    emulator.setBehaviour(BUILT_IN_PROFILES.hopeful);
    expect(await sids({ friendlyName: 'room_a', status: 'init' })).toEqual([second.body.conferenceSid]);
    expect(await sids({ status: 'in-progress' })).toEqual([other.body.conferenceSid]);
    const today = new Date(clock.ms);
    expect(await sids({ friendlyName: 'room_a', dateCreated: today, status: 'completed' })).toEqual([]);
    expect(await sids({ friendlyName: 'room_a', dateCreatedBefore: today, status: 'completed' })).toEqual([
      first.body.conferenceSid,
    ]);
    // Newest first, and paged like the 2010 API (next_page_uri followed by the helper library).
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      const sid = String((await startedRoom(`room_p${i}`)).body.conferenceSid);
      await client.conferences(sid).update({ status: 'completed' });
    }
    expect((await client.conferences.list({ status: 'completed', pageSize: 2 })).map((c) => c.friendlyName)).toEqual([
      'room_p2',
      'room_p1',
      'room_p0',
      'room_a',
    ]);
  });

  it('lists only in-progress conferences when Status is left out (Twilio default from 2026-09-30)', async () => {
    await join({ friendlyName: 'room_c', startConferenceOnEnter: false });
    await startedRoom('room_d');
    expect((await client.conferences.list()).map((c) => c.friendlyName)).toEqual(['room_d']);
    clock.ms = Date.UTC(2026, 5, 1);
    expect((await client.conferences.list()).map((c) => c.friendlyName)).toEqual(['room_d', 'room_c']);
    clock.ms = Date.UTC(2026, 10, 21, 12);
  });

  it('kicks a participant by REST and ends the conference when an endConferenceOnExit participant leaves', async () => {
    const a = newSid('CA');
    const b = newSid('CA');
    const joined = await join({ friendlyName: 'room_e', callSid: a, endConferenceOnExit: true });
    await join({ friendlyName: 'room_e', callSid: b });
    const sid = String(joined.body.conferenceSid);
    expect((await client.conferences(sid).participants(b).fetch()).callSid).toBe(b);
    await client.conferences(sid).participants(b).remove();
    expect((await control(emulator.url, 'GET', `/calls/${b}/released?timeoutMs=0`)).body).toMatchObject({
      reason: 'participant-removed',
    });
    await join({ friendlyName: 'room_e', callSid: b });
    await client.calls(a).update({ status: 'completed' });
    const conference = await client.conferences(sid).fetch();
    expect([conference.status, conference.reasonConferenceEnded]).toEqual([
      'completed',
      'participant-with-end-conference-on-exit-left',
    ]);
    expect((await control(emulator.url, 'GET', `/calls/${b}/released?timeoutMs=0`)).body).toMatchObject({
      reason: 'conference-ended',
    });
    expect((await client.calls(a).fetch()).status).toBe('completed');
  });

  it('survives status callbacks that fail or cannot be delivered', async () => {
    const failing = await startCallbackReceiver(500);
    const caller = newSid('CA');
    await join({
      friendlyName: 'room_f',
      callSid: caller,
      statusCallback: `${failing.url}/x`,
      statusCallbackEvent: ['leave', 'end'],
    });
    await join({
      friendlyName: 'room_g',
      statusCallback: 'http://127.0.0.1:9/unreachable',
      statusCallbackEvent: ['join'],
    });
    await control(emulator.url, 'POST', `/calls/${caller}/hangup`);
    await waitFor(() => failing.received.length >= 2);
    await failing.close();
    expect((await control(emulator.url, 'GET', '/stats')).status).toBe(200);
  });

  it('rejects control requests it cannot honour', async () => {
    expect((await join({})).status).toBe(400);
    expect((await join({ friendlyName: 'r', callSid: 'nope' })).status).toBe(400);
    expect((await join({ friendlyName: 'r', statusCallbackEvent: ['bogus'] })).status).toBe(400);
    const caller = newSid('CA');
    await join({ friendlyName: 'r', callSid: caller });
    expect((await join({ friendlyName: 'r2', callSid: caller })).status).toBe(409);
    expect((await control(emulator.url, 'POST', `/calls/${newSid('CA')}/hangup`)).status).toBe(404);
    expect((await control(emulator.url, 'GET', '/nothing')).status).toBe(404);
  });

  it('refuses requests the spec forbids: a bad Status enum, an unknown parameter, a bad sid', async () => {
    const sid = String((await startedRoom('room_h')).body.conferenceSid);
    const bogus = await restError(client.conferences(sid).update({ status: 'bogus' as 'completed' }));
    expect([bogus.status, bogus.code]).toEqual([400, 20001]);
    expect(bogus.message).toBe('SPEC_VIOLATION: UpdateConference: form Status must be one of [completed]; got "bogus"');

    const unknown = await rawTwilio(
      emulator.url,
      'POST',
      `/api/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences/${sid}.json`,
      {
        Status: 'completed',
        EndReason: 'done',
      },
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body?.message).toBe('SPEC_VIOLATION: UpdateConference: unknown form parameter "EndReason"');

    const badSid = await restError(client.conferences('CF123').fetch());
    expect(badSid.message).toMatch(/^SPEC_VIOLATION: FetchConference: path Sid must NOT have fewer than 34 characters/);
    const badFilter = await rawTwilio(
      emulator.url,
      'GET',
      `/api/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences.json?Status=active`,
    );
    expect(badFilter.body?.message).toMatch(/query Status must be one of \[init, in-progress, completed\]/);

    // The conference was left alone, and each refusal was recorded.
    expect((await client.conferences(sid).fetch()).status).toBe('in-progress');
    expect(emulator.violations().map((v) => [v.kind, v.operationId])).toEqual([
      ['request', 'UpdateConference'],
      ['request', 'UpdateConference'],
      ['request', 'FetchConference'],
      ['request', 'ListConference'],
    ]);
  });

  it('counts every API request by operation', async () => {
    const caller = newSid('CA');
    const sid = String((await join({ friendlyName: 'room_i', callSid: caller })).body.conferenceSid);
    await client.conferences.list({ status: 'in-progress' });
    await client.conferences(sid).fetch();
    await client.conferences(sid).participants.list();
    await client.calls(caller).fetch();
    await client.calls(caller).update({ url: 'https://example.com/next' });
    await client
      .conferences(sid)
      .update({ status: 'completed' })
      .catch(() => undefined);
    expect((await control(emulator.url, 'GET', '/stats')).body).toEqual({
      'api.calls.fetch': 1,
      'api.calls.update': 1,
      'api.conferences.fetch': 1,
      'api.conferences.list': 1,
      'api.conferences.update': 1,
      'api.participants.list': 1,
      total: 6,
    });
  });
});
