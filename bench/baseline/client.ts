import twilio from 'twilio';
import { EmulatorRequestClient } from '../../dev/emulator-client';

export type Callback = (error: unknown, payload?: unknown) => void;
export type Context = Record<string, string | undefined> & {
  DOMAIN_NAME: string;
  getTwilioClient(options?: Record<string, unknown>): twilio.Twilio;
};

/** The runtime's REST client, sent to the emulator when TWILIO_API_BASE_URL is set (benchmarks). */
export function baselineClient(context: Context): twilio.Twilio {
  const base = context.TWILIO_API_BASE_URL;
  return context.getTwilioClient(base ? { httpClient: new EmulatorRequestClient(base) } : {});
}

export const voiceResponse = () => new twilio.twiml.VoiceResponse();
