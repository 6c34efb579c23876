import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type { ServiceConfig } from './config';

/**
 * Sends the helper library's requests to the local emulator: https://<domain>.twilio.com/<path>
 * becomes <base>/<domain>/<path>. Only used when TWILIO_API_BASE_URL is set.
 */
class EmulatorRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string) {
    super({ timeout: 5000 });
  }

  override request<T>(opts: RequestClient.RequestOptions<T>) {
    const uri = opts.uri.replace(/^https:\/\/([a-z0-9-]+)\.twilio\.com\//, `${this.baseUrl}/$1/`);
    return super.request<T>({ ...opts, uri });
  }
}

export type TwilioClient = twilio.Twilio;

/** The REST client: real Twilio, or the emulator when the config names one. */
export function createTwilioClient(config: ServiceConfig): TwilioClient {
  const options: twilio.ClientOpts = { lazyLoading: true };
  if (config.apiBaseUrl) options.httpClient = new EmulatorRequestClient(config.apiBaseUrl.replace(/\/$/, ''));
  return twilio(config.accountSid, config.authToken, options);
}
