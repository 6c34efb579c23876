import { ConfigError, loadConfig } from '../../src/lib/config';

const base = { ACCOUNT_SID: 'AC' + '1'.repeat(32), AUTH_TOKEN: 't' };

describe('loadConfig', () => {
  it('has working defaults with only credentials', () => {
    expect(loadConfig(base)).toMatchObject({
      syncServiceSid: 'default',
      backendUrl: undefined,
      jobTtlSeconds: 86_400,
      defaultMaxHoldSeconds: 300,
      dispatchTimeoutMs: 1000,
      simulatedWorkSeconds: { min: 5, max: 15 },
      webhookSecrets: [],
    });
  });
  it('keeps both secrets during a rotation, newest first', () => {
    expect(
      loadConfig({ ...base, WEBHOOK_SECRET: 'whsec_new', WEBHOOK_SECRET_PREVIOUS: 'whsec_old' }).webhookSecrets,
    ).toEqual(['whsec_new', 'whsec_old']);
  });
  it.each([
    [{ ACCOUNT_SID: 'nope' }, /ACCOUNT_SID/],
    [{ JOB_TTL_SECONDS: '5' }, /JOB_TTL_SECONDS/],
    [{ DEFAULT_MAX_HOLD_SECONDS: 'ten' }, /DEFAULT_MAX_HOLD_SECONDS/],
    [{ SIMULATED_WORK_SECONDS: '9-3' }, /SIMULATED_WORK_SECONDS/],
    [{ BACKEND_URL: 'https://example.test/jobs' }, /WEBHOOK_SECRET/],
  ])('names the bad setting %o', (override, message) => {
    expect(() => loadConfig({ ...base, ...override })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...override })).toThrow(message);
  });
});
