/**
 * The one way verify:live reaches Twilio: the `twilio` helper library, with an HTTP client that
 * sends `https://<domain>.twilio.com/...` to `<base>/<domain>/...` when a base URL is given (the
 * emulator), exactly as the service does (src/lib/twilio-client.ts rewriteTwilioUrl). Unlike the
 * service's client it has no 10 s request budget, only a per-call timeout.
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { rewriteTwilioUrl } from '../src/lib/twilio/client';

export type VerifyClient = twilio.Twilio;

const CALL_TIMEOUT_MS = 20_000;

export function verifyClient(accountSid: string, authToken: string, apiBaseUrl?: string): VerifyClient {
  const Base = require('twilio/lib/base/RequestClient') as typeof RequestClient;
  class RewritingRequestClient extends Base {
    constructor() {
      super({ timeout: CALL_TIMEOUT_MS });
    }

    override request<T>(opts: RequestClient.RequestOptions<T>) {
      const uri = apiBaseUrl ? rewriteTwilioUrl(opts.uri, apiBaseUrl) : opts.uri;
      return super.request<T>({ ...opts, uri });
    }
  }
  return twilio(accountSid, authToken, { httpClient: new RewritingRequestClient() });
}

/** `{status, code, message}` of a failed helper-library call, for evidence. */
export function restError(error: unknown): { status?: number; code?: number; message: string } {
  const rest = error as { status?: number; code?: number; message?: string };
  return { status: rest.status, code: rest.code, message: rest.message ?? String(error) };
}
