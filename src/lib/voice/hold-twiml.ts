import type VoiceResponse from 'twilio/lib/twiml/VoiceResponse';
import type { JobStatus } from '../contracts';
import { studioReturnUrl } from '../contracts-voice';

/**
 * The helper library's TwiML builder, required on first use rather than when the function
 * loads: Twilio's runtime has usually loaded the helper library already (for the global
 * `Twilio`), which makes this a cache hit, and a function that answers without TwiML never pays.
 */
function voiceResponse(): VoiceResponse {
  const VoiceResponseClass = require('twilio/lib/twiml/VoiceResponse') as typeof VoiceResponse;
  return new VoiceResponseClass();
}

/**
 * Twilio's webhook connection overrides, as a URL fragment (never sent to the server): retry up
 * to 5 times (the most allowed) when a request fails with a 4xx (such as the 429 of a Functions
 * service past its concurrency limit), a 5xx, a connect or a read timeout. Every request is
 * safe to repeat: a hold-loop turn only checks the job, /hold answers the same TwiML again.
 */
export const RETRY_OVERRIDES = 'rc=5&rp=4xx,5xx,ct,rt';

/**
 * A URL Twilio Voice requests during the hold (waitUrl, a turn's Redirect, the Dial action, the
 * after-hold URL), with the retry overrides: a refused hold-loop turn must not end the loop.
 * Whether a conference's waitUrl honours them is not documented (docs/TWILIO-DIFFERENCES.md).
 */
export function withRetryOverrides(url: string): string {
  return `${url.split('#')[0]}#${RETRY_OVERRIDES}`;
}

/** Back to Studio at once: `{{widgets.NAME.status}}` carries the job's status. */
export function returnToStudioTwiml(accountSid: string, flowSid: string, status: JobStatus): string {
  const response = voiceResponse();
  response.redirect({ method: 'POST' }, studioReturnUrl(accountSid, flowSid, status));
  return response.toString();
}

export interface HoldTwimlOptions {
  roomName: string;
  waitUrl: string;
  eventsUrl: string;
  /** Requested when the <Dial> ends; it decides whether to return to Studio or hold again. */
  afterUrl: string;
  /** Twilio cuts the call out of the room after this, even if every one of our requests failed. */
  timeLimitSeconds: number;
}

/**
 * The caller joins the job's room alone and waits there (startConferenceOnEnter=false keeps it
 * `init`), hearing the waitUrl loop. The `leave` status callback tells us if they hang up.
 */
export function holdTwiml(options: HoldTwimlOptions): string {
  const response = voiceResponse();
  const dial = response.dial({
    action: withRetryOverrides(options.afterUrl),
    method: 'POST',
    timeLimit: options.timeLimitSeconds,
  });
  dial.conference(
    {
      startConferenceOnEnter: false,
      endConferenceOnExit: true,
      beep: 'false',
      waitUrl: withRetryOverrides(options.waitUrl),
      waitMethod: 'POST',
      statusCallback: options.eventsUrl,
      statusCallbackMethod: 'POST',
      statusCallbackEvent: ['leave'],
    },
    options.roomName,
  );
  return response.toString();
}

/** Said before the music of a hold-loop turn (a backend's progress). */
export interface TurnSpeech {
  text: string;
  voice?: string;
  language?: string;
}

/**
 * One turn of the wait loop: what there is to say, the music, then a fresh request (waitUrl
 * TwiML may use Say, Play, Pause and Redirect only).
 */
export function waitLoopTwiml(musicUrl: string, nextUrl: string, speech?: TurnSpeech): string {
  const response = voiceResponse();
  if (speech) {
    const attributes: VoiceResponse.SayAttributes = {};
    if (speech.voice) attributes.voice = speech.voice as NonNullable<VoiceResponse.SayAttributes['voice']>;
    if (speech.language) attributes.language = speech.language as NonNullable<VoiceResponse.SayAttributes['language']>;
    response.say(attributes, speech.text);
  }
  response.play(musicUrl);
  response.redirect({ method: 'POST' }, withRetryOverrides(nextUrl));
  return response.toString();
}

/** Ends the call (the answer to a Dial action after the caller hung up; nobody hears it). */
export function hangupTwiml(): string {
  const response = voiceResponse();
  response.hangup();
  return response.toString();
}
