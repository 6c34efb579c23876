/** Sync Documents through the real twilio helper library, against the emulator. */
import { DEFAULT_SYNC_SERVICE_SID } from '../../emulator/sids';
import { ManualClock, rawTwilio, restError, useTestEmulator } from '../support/emulator';

describe('emulator: Sync documents', () => {
  const clock = new ManualClock();
  const { emulator, client } = useTestEmulator({ clock: clock.now });
  const sync = () => client.sync.v1.services('default');

  it('creates, fetches (by sid and unique name), updates and deletes a document', async () => {
    const created = await sync().documents.create({ uniqueName: 'job_1', data: { status: 'PENDING' }, ttl: 600 });
    expect(created.sid).toMatch(/^ET[0-9a-f]{32}$/);
    expect(created.serviceSid).toBe(DEFAULT_SYNC_SERVICE_SID);
    expect(created.revision).toBe('0');
    expect(created.data).toEqual({ status: 'PENDING' });
    expect(created.dateExpires?.getTime()).toBe(Math.floor(clock.ms / 1000) * 1000 + 600_000);

    expect((await sync().documents(created.sid).fetch()).uniqueName).toBe('job_1');
    expect((await sync().documents('job_1').fetch()).sid).toBe(created.sid);

    const updated = await sync()
      .documents('job_1')
      .update({ data: { status: 'COMPLETED' }, ifMatch: '0' });
    expect(updated.revision).toBe('1');
    expect(updated.data).toEqual({ status: 'COMPLETED' });
    expect(updated.dateExpires?.getTime()).toBe(created.dateExpires?.getTime());

    expect(await sync().documents(created.sid).remove()).toBe(true);
    const gone = await restError(sync().documents('job_1').fetch());
    expect([gone.status, gone.code]).toEqual([404, 54100]);
    expect(emulator.stats()).toMatchObject({
      'sync.documents.create': 1,
      'sync.documents.fetch': 3,
      'sync.documents.update': 1,
      'sync.documents.remove': 1,
      total: 6,
    });
  });

  it('accepts an IS sid as service and keeps services apart', async () => {
    const service = 'IS' + 'a'.repeat(32);
    await client.sync.v1.services(service).documents.create({ uniqueName: 'same', data: {} });
    await sync().documents.create({ uniqueName: 'same', data: {} });
    const doc = await client.sync.v1.services(service).documents('same').fetch();
    expect(doc.serviceSid).toBe(service);
    const unknown = await restError(client.sync.v1.services('not-a-service').documents('same').fetch());
    expect(unknown.status).toBe(404);
  });

  it('refuses a taken unique name with 54301 / 409', async () => {
    await sync().documents.create({ uniqueName: 'dup', data: {} });
    const error = await restError(sync().documents.create({ uniqueName: 'dup', data: {} }));
    expect([error.status, error.code]).toEqual([409, 54301]);
    expect(error.moreInfo).toBe('https://www.twilio.com/docs/errors/54301');
  });

  it('refuses an update whose If-Match is not the current revision with 54103 / 412', async () => {
    await sync().documents.create({ uniqueName: 'rev', data: { n: 0 } });
    await sync()
      .documents('rev')
      .update({ data: { n: 1 }, ifMatch: '0' });
    const error = await restError(
      sync()
        .documents('rev')
        .update({ data: { n: 2 }, ifMatch: '0' }),
    );
    expect([error.status, error.code]).toEqual([412, 54103]);
    expect((await sync().documents('rev').fetch()).data).toEqual({ n: 1 });
    // Without If-Match the write is unconditional, and the revision still moves on.
    expect(
      (
        await sync()
          .documents('rev')
          .update({ data: { n: 3 } })
      ).revision,
    ).toBe('2');
  });

  it('refuses data over 16 KiB with 54006 / 413 and accepts exactly 16 KiB', async () => {
    const filler = (bytes: number) => ({ x: 'a'.repeat(bytes - '{"x":""}'.length) });
    const exact = await sync().documents.create({ uniqueName: 'big', data: filler(16384) });
    expect(exact.sid).toBeDefined();
    const error = await restError(sync().documents.create({ uniqueName: 'bigger', data: filler(16385) }));
    expect([error.status, error.code]).toEqual([413, 54006]);
    const updateError = await restError(
      sync()
        .documents('big')
        .update({ data: filler(16385) }),
    );
    expect([updateError.status, updateError.code]).toEqual([413, 54006]);
  });

  it('validates the TTL range (54011) and makes expired documents disappear', async () => {
    const error = await restError(sync().documents.create({ uniqueName: 'ttl', data: {}, ttl: 31_536_001 }));
    expect([error.status, error.code]).toEqual([400, 54011]);

    await sync().documents.create({ uniqueName: 'short', data: {}, ttl: 60 });
    await sync().documents.create({ uniqueName: 'forever', data: {}, ttl: 0 });
    expect((await sync().documents('forever').fetch()).dateExpires).toBeNull();
    clock.advance(59_000);
    expect((await sync().documents('short').fetch()).uniqueName).toBe('short');
    clock.advance(1_000);
    const expired = await restError(sync().documents('short').fetch());
    expect([expired.status, expired.code]).toEqual([404, 54100]);
    expect((await sync().documents.list()).map((d) => d.uniqueName)).toEqual(['forever']);
    // The unique name is free again once its document expired.
    await sync().documents.create({ uniqueName: 'short', data: {}, ttl: 60 });
    // A new Ttl on update moves the expiry.
    const moved = await sync().documents('short').update({ ttl: 3600 });
    expect(moved.dateExpires?.getTime()).toBe(Math.floor(clock.ms / 1000) * 1000 + 3_600_000);
  });

  it('lists documents page by page the way the helper library follows them', async () => {
    for (let i = 0; i < 5; i++) await sync().documents.create({ uniqueName: `doc${i}`, data: { i } });
    const all = await sync().documents.list({ pageSize: 2 });
    expect(all.map((d) => d.uniqueName)).toEqual(['doc0', 'doc1', 'doc2', 'doc3', 'doc4']);
    const page = await sync().documents.page({ pageSize: 2 });
    expect(page.instances).toHaveLength(2);
    expect(page.nextPageUrl).toMatch(
      /^https:\/\/sync\.twilio\.com\/v1\/Services\/IS0+\/Documents\?PageSize=2&Page=1&PageToken=PA/,
    );
    expect(emulator.stats()['sync.documents.list']).toBe(4);
  });

  it('answers data that is not a JSON object with a spec violation (the spec types Data as object)', async () => {
    const reply = await rawTwilio(emulator.url, 'POST', '/sync/v1/Services/default/Documents', { Data: '[1,2]' });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ code: 20001, status: 400 });
    expect(String(reply.body?.message)).toMatch(/^SPEC_VIOLATION: CreateDocument: form Data must be object/);
    expect(emulator.violations()).toHaveLength(1);
  });
});
