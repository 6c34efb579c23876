import {
  LIMITS,
  PATHS,
  START_CONTROL_PARAMS,
  START_HOLD_PARAMS,
  START_NOTIFY_PARAMS,
  type StartReply,
} from '../../lib/contracts';
import { VOICE_PARAMS } from '../../lib/contracts-voice';
import { HttpError, invalidParameter } from '../../lib/http/errors';
import { callerParams, defineHandler, json } from '../../lib/http/handler';
import { optionalNumber, optionalString } from '../../lib/http/params';
import { serviceUrl } from '../../lib/http/service-url';
import type { JobRecord, NotifyTarget } from '../../lib/jobs/job';
import { statusReply } from '../../lib/jobs/replies';
import { longestHoldSeconds } from '../../lib/jobs/state';
import { servicesFor } from '../../lib/services';
import { FLOW_SID } from '../../lib/twilio-sids';

const NOT_INPUT: readonly string[] = [...START_CONTROL_PARAMS, ...START_HOLD_PARAMS, ...START_NOTIFY_PARAMS];

/** Job input: every parameter Studio sent except the ones that steer the job. */
function jobInput(params: Record<string, unknown>): Record<string, unknown> {
  const input = Object.fromEntries(Object.entries(params).filter(([key]) => !NOT_INPUT.includes(key)));
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > LIMITS.inputBytes) {
    throw new HttpError(
      'PAYLOAD_TOO_LARGE',
      `job input is ${bytes} bytes of JSON; at most ${LIMITS.inputBytes} are accepted`,
    );
  }
  return input;
}

/** A Say voice as Studio's Say widget names one: `Polly.Joanna-Neural`, `Google.en-US-Standard-C`, `alice`. */
const VOICE = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u;
/** A BCP 47 language tag as Say takes it: `en-US`, `es-MX`, `cmn-CN`. */
const LANGUAGE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;

/** What the hold loop says while the caller waits (START_HOLD_PARAMS). */
function holdSettings(
  params: Record<string, unknown>,
): Pick<JobRecord, 'progressEveryTurns' | 'progressVoice' | 'progressLanguage'> {
  const progressEveryTurns = optionalNumber(params, 'progressEveryTurns', {
    min: 0,
    max: LIMITS.progressEveryTurns,
    integer: true,
  });
  const progressVoice = optionalString(params, 'progressVoice', 64);
  if (progressVoice !== undefined && !VOICE.test(progressVoice)) {
    throw invalidParameter(
      'progressVoice must be a Say voice name such as Polly.Joanna-Neural (letters, digits, ".", "-", "_")',
    );
  }
  const progressLanguage = optionalString(params, 'progressLanguage', 20);
  if (progressLanguage !== undefined && !LANGUAGE.test(progressLanguage)) {
    throw invalidParameter('progressLanguage must be a language tag such as en-US');
  }
  return {
    ...(progressEveryTurns !== undefined ? { progressEveryTurns } : {}),
    ...(progressVoice !== undefined ? { progressVoice } : {}),
    ...(progressLanguage !== undefined ? { progressLanguage } : {}),
  };
}

/** Control characters never belong in an address Studio is handed back. */
const CONTROL = /[\p{Cc}]/u;

/** Where the outcome may go when the flow does not wait for it (START_NOTIFY_PARAMS): all three or none. */
function notifyTarget(params: Record<string, unknown>): NotifyTarget | undefined {
  const flowSid = optionalString(params, 'notifyFlowSid', 34);
  const to = optionalString(params, 'notifyTo', LIMITS.notifyAddressChars);
  const from = optionalString(params, 'notifyFrom', LIMITS.notifyAddressChars);
  const given = [flowSid, to, from].filter((value) => value !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3)
    throw invalidParameter(
      'the notify parameters notifyFlowSid, notifyTo and notifyFrom go together: give all three or none',
    );
  if (!FLOW_SID.test(flowSid!))
    throw invalidParameter(
      'the parameter notifyFlowSid must be a Flow SID: "FW" followed by 32 hex digits ({{flow.flow_sid}})',
    );
  for (const [name, value] of [
    ['notifyTo', to!],
    ['notifyFrom', from!],
  ] as const) {
    if (value.trim() !== value || CONTROL.test(value))
      throw invalidParameter(
        `the parameter ${name} must be an address such as +15551230000, without spaces or control characters`,
      );
  }
  return { flowSid: flowSid!, to: to!, from: from! };
}

/** /jobs/start (Run Function): creates the job, dispatches it and answers well within 10 s. */
export const handler = defineHandler(async (context, event) => {
  const params = callerParams(event);
  const waitSeconds = optionalNumber(params, 'wait', { min: 0, max: LIMITS.startWaitSeconds }) ?? 0;
  const idempotencyKey =
    optionalString(params, 'idempotencyKey', LIMITS.idempotencyKeyLength) ??
    optionalString(params, VOICE_PARAMS.callSid, LIMITS.callSidChars);
  const input = jobInput(params);
  const hold = holdSettings(params);
  const notify = notifyTarget(params);
  const services = servicesFor(context);
  const maxHoldLimit = longestHoldSeconds(services.config.jobTtlSeconds);
  const maxHoldSeconds =
    optionalNumber(params, 'maxHoldSeconds', { min: LIMITS.minHoldSeconds, max: maxHoldLimit, integer: true }) ??
    Math.min(services.config.defaultMaxHoldSeconds, maxHoldLimit);
  if (Object.keys(input).some((key) => key.length > LIMITS.inputNameChars)) {
    throw invalidParameter(`parameter names must be at most ${LIMITS.inputNameChars} characters`);
  }

  const { current, delivery } = await services.jobs.start({
    idempotencyKey,
    input,
    maxHoldSeconds,
    waitSeconds,
    callbackUrl: services.callbackUrl,
    hold,
    notify,
  });
  const { job } = current;
  const reply: StartReply = {
    ...statusReply(job, Date.now()),
    statusUrl: serviceUrl(context, PATHS.status, { jobId: job.jobId }),
    ...(delivery ? { delivery } : {}),
  };
  if (job.status === 'COMPLETED') reply.result = await services.jobs.readResult(job);
  return json(200, reply);
});
