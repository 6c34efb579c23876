/**
 * Behaviour profiles: each switch both ways, the conference start rule (V1b), calls that exist
 * outside any conference, numbered releases, and loading profiles from files.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newSid } from '../../emulator/sids';
import {
  BehaviourProfileError,
  BUILT_IN_PROFILES,
  DEFAULT_PROFILE,
  loadBehaviourProfile,
  type TwilioBehaviour,
} from '../../emulator/twilio-behaviour';
import { control, ManualClock, restError, startTestEmulator, useTestEmulator } from '../support/emulator';
import { waitFor } from '../support/wait';

const { documented, hopeful } = BUILT_IN_PROFILES;

describe('emulator: behaviour profiles and calls', () => {
  const clock = new ManualClock();
  const { emulator, client, receiver } = useTestEmulator({ clock: clock.now }, { receiver: true });

  const join = (body: Record<string, unknown>) => control(emulator.url, 'POST', '/conferences/join', body);
  const released = (callSid: string, query = 'timeoutMs=0') =>
    control(emulator.url, 'GET', `/calls/${callSid}/released?${query}`);
  const use = (profile: TwilioBehaviour) => emulator.setBehaviour(profile);
  /** The participant-leave callbacks received so far. */
  const leaves = () =>
    receiver.received.filter((r) => r.params.StatusCallbackEvent === 'participant-leave').map((r) => r.params);
  const watched = (friendlyName: string, body: Record<string, unknown> = {}) =>
    join({
      friendlyName,
      statusCallback: `${receiver.url}/events`,
      statusCallbackEvent: ['start', 'end', 'join', 'leave'],
      ...body,
    });

  describe('the profile in force', () => {
    it('is documented by default, readable by the handle and the control API', async () => {
      expect(emulator.behaviour).toEqual(DEFAULT_PROFILE);
      expect(DEFAULT_PROFILE).toEqual(documented);
      expect(await control(emulator.url, 'GET', '/behaviour')).toEqual({ status: 200, body: documented });
    });

    it('is switched at run time by POST /_emulator/behaviour, named after what it changes, and reset', async () => {
      const posted = await control(emulator.url, 'POST', '/behaviour', { extends: 'hopeful' });
      expect(posted).toEqual({ status: 200, body: { name: 'hopeful', switches: hopeful.switches } });
      expect(emulator.behaviour.switches).toEqual(hopeful.switches);

      const one = await control(emulator.url, 'POST', '/behaviour', {
        switches: { listInitConferencesByStatus: true },
      });
      expect(one.body).toEqual({
        name: 'documented + listInitConferencesByStatus=true',
        switches: { ...documented.switches, listInitConferencesByStatus: true },
      });
      // The flow runner's switches travel the same way (the runner reads them from the profile).
      const waitUrl = await control(emulator.url, 'POST', '/behaviour', {
        switches: { waitUrlHonoursConnectionOverrides: true },
      });
      expect(waitUrl.body).toEqual({
        name: 'documented + waitUrlHonoursConnectionOverrides=true',
        switches: { ...documented.switches, waitUrlHonoursConnectionOverrides: true },
      });
      expect(documented.switches.waitUrlHonoursConnectionOverrides).toBe(false);
      expect(hopeful.switches.waitUrlHonoursConnectionOverrides).toBe(true);
      const named = await control(emulator.url, 'POST', '/behaviour', {
        name: 'mine',
        extends: 'hopeful',
        switches: { endInitConferenceByRest: false },
      });
      expect(named.body).toEqual({ name: 'mine', switches: { ...hopeful.switches, endInitConferenceByRest: false } });

      emulator.reset();
      expect((await control(emulator.url, 'GET', '/behaviour')).body).toEqual(documented);
    });

    it('refuses a bad posted profile and keeps the one in force', async () => {
      use(hopeful);
      const unknown = await control(emulator.url, 'POST', '/behaviour', { switches: { hangsUpPolitely: true } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toMatch(/unknown switch "hangsUpPolitely"/);
      const notBoolean = await control(emulator.url, 'POST', '/behaviour', {
        switches: { endInitConferenceByRest: 'yes' },
      });
      expect(notBoolean.body.error).toMatch(/must be true or false/);
      expect((await control(emulator.url, 'POST', '/behaviour', { extends: 'optimistic' })).status).toBe(400);
      expect((await control(emulator.url, 'POST', '/behaviour', [])).status).toBe(400);
      const badJson = await fetch(`${emulator.url}/_emulator/behaviour`, { method: 'POST', body: '{nope' });
      expect(badJson.status).toBe(400);
      expect(emulator.behaviour).toEqual(hopeful);
      expect(() =>
        emulator.setBehaviour({ name: 'x', switches: { nope: true } } as unknown as TwilioBehaviour),
      ).toThrow(BehaviourProfileError);
    });

    it('comes back to the start profile on reset', async () => {
      const started = await startTestEmulator({ behaviour: hopeful });
      try {
        expect(started.emulator.behaviour).toEqual(hopeful);
        started.emulator.setBehaviour(documented);
        started.emulator.reset();
        expect((await control(started.emulator.url, 'GET', '/behaviour')).body).toEqual(hopeful);
      } finally {
        await started.emulator.close();
      }
    });
  });

  describe('V1b: a conference starts with two participants, one of them a moderator', () => {
    it('keeps one moderator alone in init, in every profile; the second participant starts it', async () => {
      for (const profile of [documented, hopeful]) {
        use(profile);
        const room = `v1b_${profile.name}`;
        const moderator = await watched(room, { startConferenceOnEnter: true });
        expect(moderator.body.conferenceStatus).toBe('init');
        const sid = String(moderator.body.conferenceSid);
        expect((await client.conferences(sid).fetch()).status).toBe('init');

        // The newcomer waits (startConferenceOnEnter=false); the moderator already in the room starts it.
        const waiting = await join({ friendlyName: room, startConferenceOnEnter: false });
        expect(waiting.body).toMatchObject({ conferenceSid: sid, conferenceStatus: 'in-progress' });
        expect((await client.conferences(sid).fetch()).status).toBe('in-progress');
        await waitFor(() => receiver.events('/events').includes('conference-start'));
        expect(receiver.events('/events')).toEqual(['participant-join', 'participant-join', 'conference-start']);
        receiver.received.length = 0;
      }
    });

    it('does not start a room of waiting participants only', async () => {
      await join({ friendlyName: 'v1b_waiting', startConferenceOnEnter: false });
      const second = await join({ friendlyName: 'v1b_waiting', startConferenceOnEnter: false });
      expect(second.body.conferenceStatus).toBe('init');
      expect((await join({ friendlyName: 'v1b_waiting' })).body.conferenceStatus).toBe('in-progress');
    });
  });

  describe('V2 endInitConferenceByRest', () => {
    it('false (documented): ending a room that has not started is 400 / 16099 and changes nothing', async () => {
      const caller = newSid('CA');
      const joined = await watched('v2_room', { callSid: caller, startConferenceOnEnter: false });
      const sid = String(joined.body.conferenceSid);
      await waitFor(() => receiver.received.length >= 1);

      const refused = await restError(client.conferences(sid).update({ status: 'completed' }));
      expect([refused.status, refused.code]).toEqual([400, 16099]);
      expect(refused.message).toMatch(/has not started/);

      const conference = await client.conferences(sid).fetch();
      expect([conference.status, conference.reasonConferenceEnded]).toEqual(['init', null]);
      expect((await client.conferences(sid).participants.list()).map((p) => p.callSid)).toEqual([caller]);
      expect((await released(caller)).body).toEqual({ released: false });
      expect((await client.calls(caller).fetch()).status).toBe('in-progress');
      await sleep(50);
      expect(receiver.events('/events')).toEqual(['participant-join']);
    });

    it('false still lets REST end a room once it has started', async () => {
      const caller = newSid('CA');
      const sid = String(
        (await join({ friendlyName: 'v2_started', callSid: caller, startConferenceOnEnter: false })).body.conferenceSid,
      );
      await join({ friendlyName: 'v2_started' });
      expect((await client.conferences(sid).update({ status: 'completed' })).reasonConferenceEnded).toBe(
        'conference-ended-via-api',
      );
      expect((await released(caller)).body).toMatchObject({ released: true, seq: 1, reason: 'conference-ended' });
    });

    it('true (hopeful): ends the room the caller waits in alone and releases the caller', async () => {
      use(hopeful);
      const caller = newSid('CA');
      const sid = String(
        (await join({ friendlyName: 'v2_room', callSid: caller, startConferenceOnEnter: false })).body.conferenceSid,
      );
      const ended = await client.conferences(sid).update({ status: 'completed' });
      expect([ended.status, ended.reasonConferenceEnded]).toEqual(['completed', 'conference-ended-via-api']);
      expect((await released(caller)).body).toEqual({
        released: true,
        seq: 1,
        reason: 'conference-ended',
        conferenceSid: sid,
      });
    });
  });

  describe('V12 listInitConferencesByStatus', () => {
    const rooms = async () => {
      const waiting = String(
        (await join({ friendlyName: 'v12_wait', startConferenceOnEnter: false })).body.conferenceSid,
      );
      await join({ friendlyName: 'v12_live' });
      const live = String((await join({ friendlyName: 'v12_live' })).body.conferenceSid);
      return { waiting, live };
    };

    it('false (documented): Status=init answers an empty page; the other filters are unchanged', async () => {
      const { live } = await rooms();
      expect(await client.conferences.list({ status: 'init' })).toEqual([]);
      expect(await client.conferences.list({ friendlyName: 'v12_wait', status: 'init' })).toEqual([]);
      expect((await client.conferences.list({ status: 'in-progress' })).map((c) => c.sid)).toEqual([live]);
      // No Status: in-progress only (the clock is past 2026-09-30).
      expect((await client.conferences.list()).map((c) => c.sid)).toEqual([live]);
    });

    it('true (hopeful): Status=init lists the rooms waiting to start', async () => {
      use(hopeful);
      const { waiting, live } = await rooms();
      expect((await client.conferences.list({ status: 'init' })).map((c) => c.sid)).toEqual([waiting]);
      expect((await client.conferences.list()).map((c) => c.sid)).toEqual([live]);
    });
  });

  describe('V9 participantCallStatusOnLeave', () => {
    /** A hang-up in one room, a move (REST redirect) out of another. */
    const hangupAndMove = async () => {
      const hungUp = newSid('CA');
      await watched('v9_hangup', { callSid: hungUp });
      await control(emulator.url, 'POST', `/calls/${hungUp}/hangup`);
      const moved = newSid('CA');
      await watched('v9_move', { callSid: moved });
      await join({ friendlyName: 'v9_move' }); // someone stays, so the room goes on
      await client.calls(moved).update({ url: 'https://example.com/next' });
      await waitFor(() => leaves().length >= 2);
      return { hangup: leaves().find((l) => l.CallSid === hungUp), move: leaves().find((l) => l.CallSid === moved) };
    };

    it('false (documented): participant-leave carries neither ParticipantCallStatus nor ReasonParticipantLeft', async () => {
      const { hangup, move } = await hangupAndMove();
      for (const leave of [hangup, move]) {
        expect(leave).toBeDefined();
        expect(leave).not.toHaveProperty('ParticipantCallStatus');
        expect(leave).not.toHaveProperty('ReasonParticipantLeft');
      }
    });

    it('true (hopeful): completed on a hang-up, in-progress on a move, with a reason', async () => {
      use(hopeful);
      const { hangup, move } = await hangupAndMove();
      expect(hangup).toMatchObject({
        ParticipantCallStatus: 'completed',
        ReasonParticipantLeft: 'participant_hung_up',
      });
      expect(move).toMatchObject({
        ParticipantCallStatus: 'in-progress',
        ReasonParticipantLeft: 'participant_updated_via_api',
      });
    });

    it('true: everyone still in a room that ends moves on (in-progress)', async () => {
      use(hopeful);
      const caller = newSid('CA');
      const sid = String(
        (await watched('v9_end', { callSid: caller, startConferenceOnEnter: false })).body.conferenceSid,
      );
      await client.conferences(sid).update({ status: 'completed' });
      await waitFor(() => leaves().length >= 1);
      expect(leaves()[0]).toMatchObject({
        CallSid: caller,
        ParticipantCallStatus: 'in-progress',
        ReasonParticipantLeft: 'conference_ended',
      });
    });
  });

  describe('calls outside any conference', () => {
    it('creates an in-progress call; GET Calls answers its status; a duplicate is 409', async () => {
      const caller = newSid('CA');
      expect(await control(emulator.url, 'POST', '/calls', { callSid: caller, from: '+15005550123' })).toEqual({
        status: 200,
        body: { callSid: caller, status: 'in-progress' },
      });
      const call = await client.calls(caller).fetch();
      expect([call.sid, call.status, call.from, call.endTime]).toEqual([caller, 'in-progress', '+15005550123', null]);
      expect((await control(emulator.url, 'POST', '/calls', { callSid: caller })).status).toBe(409);
      expect((await control(emulator.url, 'POST', '/calls', { callSid: 'CA1' })).status).toBe(400);
      expect((await control(emulator.url, 'POST', '/calls', { accountSid: 'nope' })).status).toBe(400);
      const generated = await control(emulator.url, 'POST', '/calls', {});
      expect(generated.body).toEqual({ callSid: expect.stringMatching(/^CA[0-9a-f]{32}$/), status: 'in-progress' });
    });

    it('a REST redirect is a release with a number; the caller can watch the whole call', async () => {
      const caller = newSid('CA');
      await control(emulator.url, 'POST', '/calls', { callSid: caller });
      expect((await released(caller)).body).toEqual({ released: false });

      const waiting = released(caller, 'timeoutMs=5000');
      await client.calls(caller).update({ url: 'https://example.com/flow', method: 'GET' });
      expect((await waiting).body).toEqual({
        released: true,
        seq: 1,
        reason: 'call-redirected',
        conferenceSid: null,
        url: 'https://example.com/flow',
        method: 'GET',
      });

      const twiml = '<Response><Say>hello</Say></Response>';
      const next = released(caller, 'timeoutMs=5000&after=1');
      await client.calls(caller).update({ twiml });
      expect((await next).body).toEqual({
        released: true,
        seq: 2,
        reason: 'call-redirected',
        conferenceSid: null,
        twiml,
      });
      expect((await released(caller, 'timeoutMs=0&after=0')).body).toMatchObject({ seq: 1 });
      expect((await released(caller, 'timeoutMs=0&after=2')).body).toEqual({ released: false });
      expect((await client.calls(caller).fetch()).status).toBe('in-progress');

      // Joining a room later: by default the long-poll answers releases since that join.
      const sid = String(
        (await join({ friendlyName: 'later', callSid: caller, startConferenceOnEnter: false })).body.conferenceSid,
      );
      expect((await released(caller)).body).toEqual({ released: false });
      await client.calls(caller).update({ url: 'https://example.com/after-room' });
      expect((await released(caller)).body).toMatchObject({
        released: true,
        seq: 3,
        reason: 'call-redirected',
        conferenceSid: sid,
      });
    });

    it('a long-poll with after waits for a release numbered above it', async () => {
      const caller = newSid('CA');
      await control(emulator.url, 'POST', '/calls', { callSid: caller });
      await client.calls(caller).update({ url: 'https://example.com/1' });
      const third = released(caller, 'timeoutMs=5000&after=2');
      await client.calls(caller).update({ url: 'https://example.com/2' });
      await client.calls(caller).update({ url: 'https://example.com/3' });
      expect((await third).body).toMatchObject({ released: true, seq: 3, url: 'https://example.com/3' });
      expect((await released(caller, 'after=-1')).status).toBe(400);
      expect((await released(caller, 'after=x')).status).toBe(400);
    });

    it('hangs up a call in no conference; afterwards GET answers completed and a redirect is 21220', async () => {
      const caller = newSid('CA');
      await control(emulator.url, 'POST', '/calls', { callSid: caller });
      clock.advance(3000);
      expect((await control(emulator.url, 'POST', `/calls/${caller}/hangup`)).body).toEqual({
        callSid: caller,
        status: 'completed',
      });
      expect((await released(caller)).body).toEqual({
        released: true,
        seq: 1,
        reason: 'caller-hangup',
        conferenceSid: null,
      });
      const call = await client.calls(caller).fetch();
      expect([call.status, call.duration]).toEqual(['completed', '3']);
      expect(call.endTime).not.toBeNull();

      const redirect = await restError(client.calls(caller).update({ url: 'https://example.com/next' }));
      expect([redirect.status, redirect.code, redirect.message]).toEqual([
        400,
        21220,
        'Call is not in-progress. Cannot redirect.',
      ]);
      expect((await control(emulator.url, 'POST', `/calls/${caller}/hangup`)).status).toBe(409);
      expect((await join({ friendlyName: 'too_late', callSid: caller })).status).toBe(409);
    });

    it('ends a call in no conference by REST Status=completed', async () => {
      const caller = newSid('CA');
      await control(emulator.url, 'POST', '/calls', { callSid: caller });
      expect((await client.calls(caller).update({ status: 'completed' })).status).toBe('completed');
      expect((await released(caller)).body).toMatchObject({ seq: 1, reason: 'call-completed', conferenceSid: null });
    });
  });
});

describe('behaviour profile files', () => {
  let dir: string;
  const file = (name: string, content: string) => {
    const target = path.join(dir, name);
    fs.writeFileSync(target, content);
    return target;
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'behaviour-profiles-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the built-in profiles by name, documented when none is given', () => {
    expect(loadBehaviourProfile('hopeful')).toEqual(hopeful);
    expect(loadBehaviourProfile('documented')).toEqual(documented);
    expect(loadBehaviourProfile(undefined)).toEqual(documented);
    expect(loadBehaviourProfile('')).toEqual(documented);
  });

  it('loads a good file: named switches over documented', () => {
    const profile = loadBehaviourProfile(
      file('good.json', JSON.stringify({ name: 'measured', switches: { endInitConferenceByRest: true } })),
    );
    expect(profile).toEqual({ name: 'measured', switches: { ...documented.switches, endInitConferenceByRest: true } });
  });

  it('fills the rest from extends, and names an unnamed profile after its file', () => {
    const target = file(
      'ext.json',
      JSON.stringify({ extends: 'hopeful', switches: { listInitConferencesByStatus: false } }),
    );
    expect(loadBehaviourProfile(target)).toEqual({
      name: target,
      switches: { ...hopeful.switches, listInitConferencesByStatus: false },
    });
    expect(() => loadBehaviourProfile(file('ext-bad.json', '{"extends":"rosy"}'))).toThrow(
      /"extends" must be one of documented, hopeful/,
    );
  });

  it('refuses an unknown switch, a non-boolean value, bad JSON, a missing file and an unknown name', () => {
    expect(() => loadBehaviourProfile(file('unknown.json', '{"switches":{"fastHangup":true}}'))).toThrow(
      /unknown switch "fastHangup"/,
    );
    expect(() => loadBehaviourProfile(file('value.json', '{"switches":{"endInitConferenceByRest":1}}'))).toThrow(
      /must be true or false/,
    );
    expect(() => loadBehaviourProfile(file('bad.json', '{"switches":'))).toThrow(/is not JSON/);
    expect(() => loadBehaviourProfile(file('array.json', '[]'))).toThrow(/is a JSON object/);
    expect(() => loadBehaviourProfile(path.join(dir, 'missing.json'))).toThrow(/cannot read/);
    expect(() => loadBehaviourProfile('rosy')).toThrow(BehaviourProfileError);
    expect(() => loadBehaviourProfile('rosy')).toThrow(/neither a profile \(documented, hopeful\) nor a JSON file/);
  });

  it('the emulator CLI answers a bad profile with one line and exit code 2', async () => {
    const bad = file('cli-bad.json', '{"switches":{"fastHangup":true}}');
    const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(__dirname, '../../emulator/cli.ts'), '--port', '0', '--twilio-behaviour', bad],
        { timeout: 20_000, env: { ...process.env, TWILIO_BEHAVIOUR: '' } },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `${bad}: unknown switch "fastHangup" (known: ${Object.keys(documented.switches).join(', ')})`,
    ]);
  }, 30_000);
});
