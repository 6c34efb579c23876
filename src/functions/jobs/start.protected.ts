import { LIMITS, PATHS, START_CONTROL_PARAMS, type StartReply } from '../../lib/contracts';
import { HttpError, invalidParameter } from '../../lib/http/errors';
import { callerParams, defineHandler, json } from '../../lib/http/handler';
import { optionalNumber, optionalString } from '../../lib/http/params';
import { serviceUrl } from '../../lib/http/service-url';
import { statusReply } from '../../lib/jobs/replies';
import { servicesFor } from '../../lib/services';

/** Job input: every parameter Studio sent except the ones that steer the job. */
function jobInput(params: Record<string, unknown>): Record<string, unknown> {
  const input = Object.fromEntries(
    Object.entries(params).filter(([key]) => !(START_CONTROL_PARAMS as readonly string[]).includes(key)),
  );
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > LIMITS.inputBytes) {
    throw new HttpError('PAYLOAD_TOO_LARGE', `job input is ${bytes} bytes of JSON; at most ${LIMITS.inputBytes} are accepted`);
  }
  return input;
}

/** /jobs/start (Run Function): creates the job, dispatches it and answers well within 10 s. */
export const handler = defineHandler(async (context, event) => {
  const params = callerParams(event);
  const waitSeconds = optionalNumber(params, 'wait', { min: 0, max: LIMITS.startWaitSeconds }) ?? 0;
  const idempotencyKey =
    optionalString(params, 'idempotencyKey', LIMITS.idempotencyKeyLength) ?? optionalString(params, 'CallSid', 64);
  const input = jobInput(params);
  const services = servicesFor(context);
  const maxHoldLimit = Math.min(LIMITS.maxHoldSeconds, services.config.jobTtlSeconds - 300);
  const maxHoldSeconds =
    optionalNumber(params, 'maxHoldSeconds', { min: LIMITS.minHoldSeconds, max: maxHoldLimit, integer: true }) ??
    Math.min(services.config.defaultMaxHoldSeconds, maxHoldLimit);
  if (Object.keys(input).some((key) => key.length > 100)) throw invalidParameter('parameter names must be at most 100 characters');

  const { current } = await services.jobs.start({
    idempotencyKey,
    input,
    maxHoldSeconds,
    waitSeconds,
    callbackUrl: services.callbackUrl,
  });
  const { job } = current;
  const reply: StartReply = {
    ...statusReply(job, Date.now()),
    statusUrl: serviceUrl(context, PATHS.status, { jobId: job.jobId }),
  };
  if (job.status === 'COMPLETED') reply.result = await services.jobs.readResult(job);
  return json(200, reply);
});
