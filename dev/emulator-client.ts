/**
 * A twilio helper-library client that talks to the emulator, for tests and the benchmarks'
 * baseline functions: a RequestClient that rewrites `https://<domain>.twilio.com/<path>` to
 * `<emulator url>/<domain>/<path>` with the service's own rewrite (the one TWILIO_API_BASE_URL
 * turns on), so a test client and the service reach the emulator the same way.
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';
import { rewriteTwilioUrl } from '../src/lib/twilio/client';
import { DEFAULT_ACCOUNT_SID } from '../emulator/sids';

export { rewriteTwilioUrl };

export class EmulatorRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string) {
    super({ keepAlive: false });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    return super.request({ ...opts, uri: rewriteTwilioUrl(opts.uri, this.baseUrl) });
  }
}

export const TEST_AUTH_TOKEN = 'emulator-test-token';

/** A real twilio client pointed at the emulator. */
export function createEmulatorTwilioClient(
  baseUrl: string,
  credentials: { accountSid?: string; authToken?: string } = {},
): twilio.Twilio {
  return twilio(credentials.accountSid ?? DEFAULT_ACCOUNT_SID, credentials.authToken ?? TEST_AUTH_TOKEN, {
    httpClient: new EmulatorRequestClient(baseUrl),
  });
}
