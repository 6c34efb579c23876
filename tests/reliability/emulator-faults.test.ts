/**
 * The emulator's fault stage (emulator/faults.ts) and Sync's per-document write limit: what each
 * fault looks like on the wire, how rules pick their victims, that seeded runs repeat, and that
 * a running emulator is configured over its control API.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator } from '../../emulator/server';
import { control as controlAt, ManualClock, rawTwilio, responseViolations, useTestEmulator } from '../support/emulator';

const { emulator } = useTestEmulator();

const createDoc = (name: string, data: object = { n: 1 }) =>
  rawTwilio(emulator.url, 'POST', '/sync/v1/Services/default/Documents', {
    UniqueName: name,
    Data: JSON.stringify(data),
  });
const fetchDoc = (name: string) => rawTwilio(emulator.url, 'GET', `/sync/v1/Services/default/Documents/${name}`);
const listConferences = () =>
  rawTwilio(emulator.url, 'GET', `/api/2010-04-01/Accounts/AC${'0'.repeat(32)}/Conferences.json?Status=init`);

const control = (method: string, path: string, body?: unknown) => controlAt(emulator.url, method, path, body);

/** A request that must fail at the transport level (no HTTP answer). */
async function transportFailure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return String((error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).name);
  }
  throw new Error('expected the request to get no answer');
}

describe('fault kinds', () => {
  it('rate-limit: 429 with Sync code 54009 on Sync, 20429 elsewhere; nothing is done', async () => {
    emulator.faults.configure({
      rules: [{ kind: 'rate-limit', operation: ['sync.documents.create', 'api.conferences.list'] }],
    });
    const sync = await createDoc('limited');
    expect(sync).toEqual({
      status: 429,
      body: {
        code: 54009,
        message: expect.stringContaining('rate limit'),
        more_info: 'https://www.twilio.com/docs/errors/54009',
        status: 429,
      },
    });
    expect((await listConferences()).body).toMatchObject({ status: 429, code: 20429 });
    emulator.faults.clear();
    expect((await fetchDoc('limited')).status).toBe(404);
  });

  it.each([500, 502, 503, 504])('server-error %i: Twilio error body with that status', async (status) => {
    emulator.faults.configure({ rules: [{ kind: 'server-error', status, operation: 'sync.documents.create' }] });
    const reply = await createDoc(`err${status}`);
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ status, code: status === 503 ? 20503 : 20500 });
  });

  it('drop: the connection closes without an answer', async () => {
    emulator.faults.configure({ rules: [{ kind: 'drop' }] });
    expect(await transportFailure(() => createDoc('dropped'))).toMatch(/ECONNRESET|UND_ERR_SOCKET|SocketError/);
  });

  it('timeout: nothing is answered for `ms`, then the connection closes', async () => {
    emulator.faults.configure({ rules: [{ kind: 'timeout', ms: 600 }] });
    const began = Date.now();
    await transportFailure(() => createDoc('silent'));
    expect(Date.now() - began).toBeGreaterThanOrEqual(550);
  });

  it('latency: the answer comes `ms` later and is the real one', async () => {
    emulator.faults.configure({ rules: [{ kind: 'latency', ms: 300, operation: 'sync.*' }] });
    const began = Date.now();
    expect((await createDoc('slow')).status).toBe(201);
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    expect(emulator.faults.report().injected.byKind).toEqual({ latency: 1 });
  });

  it("when: 'after' performs the operation and then loses its answer; 'before' does not perform it", async () => {
    emulator.faults.configure({ rules: [{ kind: 'drop', operation: 'sync.documents.create', when: 'after' }] });
    await transportFailure(() => createDoc('written-anyway'));
    emulator.faults.configure({
      rules: [{ kind: 'server-error', operation: 'sync.documents.create', when: 'before' }],
    });
    expect((await createDoc('never-written')).status).toBe(500);
    emulator.faults.clear();
    expect((await fetchDoc('written-anyway')).status).toBe(200);
    expect((await fetchDoc('never-written')).status).toBe(404);
  });
});

describe('choosing victims', () => {
  it('nth picks calls of the chosen operation only; times caps the count', async () => {
    emulator.faults.configure({ rules: [{ kind: 'server-error', operation: 'sync.documents.fetch', nth: [2, 3] }] });
    await createDoc('nth');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetchDoc('nth')).status);
    expect(statuses).toEqual([200, 500, 500, 200]);
    emulator.faults.configure({ rules: [{ kind: 'server-error', operation: 'sync.documents.fetch', times: 1 }] });
    expect([(await fetchDoc('nth')).status, (await fetchDoc('nth')).status]).toEqual([500, 200]);
  });

  it('a prefix pattern matches a family; other operations pass', async () => {
    emulator.faults.configure({ rules: [{ kind: 'rate-limit', operation: 'api.*' }] });
    expect((await createDoc('free')).status).toBe(201);
    expect((await listConferences()).status).toBe(429);
  });

  it('rate is drawn from a seeded generator: the same seed picks the same calls', async () => {
    const pattern = async (seed: number) => {
      emulator.faults.configure({
        seed,
        rules: [{ kind: 'server-error', operation: 'sync.documents.fetch', rate: 0.3 }],
      });
      const statuses = [];
      for (let i = 0; i < 40; i++) statuses.push((await fetchDoc('seeded')).status);
      return statuses.map((s) => (s === 500 ? 'x' : '.')).join('');
    };
    await createDoc('seeded');
    const first = await pattern(42);
    expect(await pattern(42)).toBe(first);
    expect(await pattern(43)).not.toBe(first);
    const hits = first.split('').filter((c) => c === 'x').length;
    expect(hits).toBeGreaterThan(3);
    expect(hits).toBeLessThan(25);
  });
});

describe('control API', () => {
  it('POST /_emulator/faults configures a running emulator; GET reports; /faults/reset clears', async () => {
    const set = await control('POST', '/faults', {
      seed: 5,
      rules: [{ kind: 'rate-limit', operation: 'sync.documents.create', nth: 1 }],
    });
    expect(set).toEqual({
      status: 200,
      body: { config: { seed: 5, rules: [{ kind: 'rate-limit', operation: 'sync.documents.create', nth: 1 }] } },
    });
    expect((await createDoc('ctl')).status).toBe(429);
    expect((await createDoc('ctl')).status).toBe(201);
    const report = await control('GET', '/faults');
    expect(report.body.injected).toEqual({
      total: 1,
      byKind: { 'rate-limit': 1 },
      byOperation: { 'sync.documents.create': 1 },
    });
    expect(report.body.recent).toEqual([
      expect.objectContaining({ operation: 'sync.documents.create', kind: 'rate-limit', when: 'before', rule: 0 }),
    ]);
    // By the resource struck: the path's last segment (here the Documents collection a create posts to).
    expect(report.body.byResource).toEqual({ Documents: 1 });
    expect(await control('POST', '/faults/reset')).toEqual({ status: 200, body: { reset: true } });
    expect((await control('GET', '/faults')).body).toEqual({
      config: {},
      injected: { total: 0, byKind: {}, byOperation: {} },
      recent: [],
      byResource: {},
    });
  });

  it.each([
    [{ rules: [{ kind: 'explode' }] }, /kind must be one of/],
    [{ rules: [{ kind: 'drop', rate: 2 }] }, /rate must be a probability/],
    [{ rules: [{ kind: 'drop', nth: 0 }] }, /nth must be a call number/],
    [{ rules: [{ kind: 'server-error', status: 418 }] }, /status must be 500, 502, 503 or 504/],
    [{ rules: [{ kind: 'latency', ms: -1 }] }, /ms must be milliseconds/],
    [{ rules: [{ kind: 'drop', when: 'later' }] }, /when must be before, after or either/],
    [{ rule: [] }, /unknown fault config field\(s\): rule/],
    [[], /must be a JSON object/],
  ])('refuses a bad config %j with 400 naming the problem', async (config, message) => {
    const reply = await control('POST', '/faults', config);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatch(message);
  });

  it('never faults the control API itself; GET /_emulator/state shows documents and conferences', async () => {
    emulator.faults.configure({ rules: [{ kind: 'drop' }] });
    await control('POST', '/conferences/join', {
      friendlyName: 'hold_x',
      callSid: 'CA' + '1'.repeat(32),
      startConferenceOnEnter: false,
    });
    const state = await control('GET', '/state');
    expect(state.status).toBe(200);
    expect(state.body.conferences).toEqual([
      expect.objectContaining({ friendlyName: 'hold_x', status: 'init', participants: ['CA' + '1'.repeat(32)] }),
    ]);
  });

  it('reset() goes back to the faults the emulator was started with', async () => {
    const seeded = await startEmulator({
      faults: { rules: [{ kind: 'server-error', operation: 'sync.documents.create', nth: 1 }] },
    });
    try {
      const create = () => rawTwilio(seeded.url, 'POST', '/sync/v1/Services/default/Documents', { UniqueName: 'r' });
      expect((await create()).status).toBe(500);
      seeded.reset();
      await sleep(20);
      expect((await create()).status).toBe(500);
      expect((await create()).status).toBe(201);
    } finally {
      await seeded.close();
    }
  });
});

describe("Sync's per-document write limit", () => {
  it('20 writes per second per document, then 429 / 54009; other documents are not affected', async () => {
    const clock = new ManualClock();
    const limited = await startEmulator({ clock: clock.now });
    try {
      const create = (name: string, data: object) =>
        rawTwilio(limited.url, 'POST', '/sync/v1/Services/default/Documents', {
          UniqueName: name,
          Data: JSON.stringify(data),
        });
      const update = (name: string, data: object) =>
        rawTwilio(limited.url, 'POST', `/sync/v1/Services/default/Documents/${name}`, { Data: JSON.stringify(data) });
      expect((await create('hot', { n: 0 })).status).toBe(201); // the first write
      for (let n = 1; n < 20; n++) expect((await update('hot', { n })).status).toBe(200);
      const refused = await update('hot', { n: 20 });
      expect(refused).toEqual({
        status: 429,
        body: expect.objectContaining({
          code: 54009,
          status: 429,
          message: expect.stringMatching(/at most 20 per second/),
        }),
      });
      expect((await create('cold', { n: 0 })).status).toBe(201);
      clock.advance(1001);
      expect((await update('hot', { n: 21 })).status).toBe(200);
      // Documents of 10 KiB or more: 2 writes per second.
      const big = { blob: 'x'.repeat(10 * 1024) };
      expect((await create('big', big)).status).toBe(201);
      expect((await update('big', big)).status).toBe(200);
      expect((await update('big', big)).body).toMatchObject({
        code: 54009,
        message: expect.stringMatching(/at most 2 per second for documents of 10 KiB or more/),
      });
      clock.advance(1001);
      expect((await update('big', big)).status).toBe(200);
      expect(responseViolations(limited)).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it('can be switched off (syncWriteLimit: false)', async () => {
    const clock = new ManualClock();
    const unlimited = await startEmulator({ clock: clock.now, syncWriteLimit: false });
    try {
      await rawTwilio(unlimited.url, 'POST', '/sync/v1/Services/default/Documents', { UniqueName: 'free', Data: '{}' });
      for (let n = 0; n < 25; n++) {
        expect(
          (
            await rawTwilio(unlimited.url, 'POST', '/sync/v1/Services/default/Documents/free', {
              Data: JSON.stringify({ n }),
            })
          ).status,
        ).toBe(200);
      }
    } finally {
      await unlimited.close();
    }
  });
});
