import type twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type TwilioRestClient from 'twilio/lib/rest/Twilio';
import { budgetLeft } from '../runtime/budget';
import { MIN_TWILIO_CALL_MS, REQUEST_BUDGET_MS, TWILIO_CALL_TIMEOUT_MS } from '../timing';
import { BudgetExhaustedError } from './errors';

/** What the REST client is made from (a ServiceConfig has it). */
export interface TwilioClientSettings {
  accountSid: string;
  authToken: string;
  /** Set only for the local emulator: base URL that replaces https://<domain>.twilio.com. */
  apiBaseUrl?: string;
}

/** `https://sync.twilio.com/v1/x` -> `<baseUrl>/sync/v1/x` (the emulator's layout); other URLs are left alone. */
export function rewriteTwilioUrl(uri: string, baseUrl: string): string {
  const match = /^https:\/\/([a-z0-9-]+)(?:\.[a-z0-9-]+)*\.twilio\.com(\/.*)?$/i.exec(uri);
  if (!match) return uri;
  return `${baseUrl.replace(/\/+$/, '')}/${match[1]!.toLowerCase()}${match[2] ?? '/'}`;
}

/**
 * Every REST call of a request draws on the request's time budget: it gets at most
 * TWILIO_CALL_TIMEOUT_MS, never more than the budget has left, and is not started when too
 * little is left (the helper library's own default would wait 30 s, past Studio's 10 s).
 * With TWILIO_API_BASE_URL set (local emulator), https://<domain>.twilio.com/<path> becomes
 * <base>/<domain>/<path>.
 */
function budgetedRequestClientClass() {
  const Base = require('twilio/lib/base/RequestClient') as typeof RequestClient;
  class BudgetedRequestClient extends Base {
    constructor(private readonly baseUrl?: string) {
      super({ timeout: TWILIO_CALL_TIMEOUT_MS });
    }

    override request<T>(opts: RequestClient.RequestOptions<T>) {
      const left = budgetLeft();
      if (left < MIN_TWILIO_CALL_MS) {
        return Promise.reject(
          new BudgetExhaustedError(
            `no time left for a Twilio API call (${Math.max(0, Math.round(left))} ms of the ${REQUEST_BUDGET_MS} ms request budget remain)`,
          ),
        );
      }
      const uri = this.baseUrl ? rewriteTwilioUrl(opts.uri, this.baseUrl) : opts.uri;
      return super.request<T>({ ...opts, uri, timeout: Math.floor(Math.min(TWILIO_CALL_TIMEOUT_MS, left)) });
    }
  }
  return BudgetedRequestClient;
}

export type TwilioClient = twilio.Twilio;

let shared: { key: string; client: TwilioClient } | undefined;

/**
 * The REST client: real Twilio, or the emulator when the settings name one.
 *
 * The helper library's REST client is required on first use, not when the function loads (its
 * HTTP stack is most of what requiring `twilio` costs; Twilio's runtime has usually loaded it
 * already for the global `Twilio`, which makes this a cache hit). A warm instance reuses one
 * client per configuration across invocations, and with it the client's kept-alive connections
 * to Twilio; the time budget is per invocation (async context), not per client.
 */
export function createTwilioClient(settings: TwilioClientSettings): TwilioClient {
  const key = [settings.accountSid, settings.authToken, settings.apiBaseUrl ?? ''].join('\n');
  if (shared?.key === key) return shared.client;
  const RestClient = require('twilio/lib/rest/Twilio') as typeof TwilioRestClient;
  const BudgetedRequestClient = budgetedRequestClientClass();
  const options: twilio.ClientOpts = {
    lazyLoading: true,
    httpClient: new BudgetedRequestClient(settings.apiBaseUrl),
  };
  const client = new RestClient(settings.accountSid, settings.authToken, options);
  shared = { key, client };
  return client;
}
