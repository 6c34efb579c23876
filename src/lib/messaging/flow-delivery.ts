import type { DeliveryError } from '../jobs/job';
import type { FlowDelivery } from '../jobs/ports';
import { DELIVERY_RETRY_AFTER_SECONDS as RETRY_AFTER, STUDIO_CLOCK_SLACK_MS } from '../timing';
import type { TwilioClient } from '../twilio/client';
import { BudgetExhaustedError, hasTwilioCode, isUnprocessedTwilioFailure } from '../twilio/errors';
import { withTwilioRetry } from '../twilio/retry';

/** Twilio's code for a conflict; Studio's answer when the contact already has an active execution is not documented. */
const CONFLICT = 20409;
/** Executions looked at when searching for one a lost answer created (a contact's, in a short window). */
const LOOKUP_LIMIT = 50;

interface RestFailure {
  status?: number;
  code?: number | string;
  message?: string;
}

/** The failure, classified: may Studio have acted on it, and how soon to try again. */
function attemptFailure(error: unknown): { error: DeliveryError; retryAfterSeconds: number } {
  const failure = (error ?? {}) as RestFailure;
  const message = String(failure.message ?? error).slice(0, 300);
  if (error instanceof BudgetExhaustedError) {
    return { error: { code: 'NO_TIME_LEFT', message }, retryAfterSeconds: RETRY_AFTER.noTimeLeft };
  }
  if (failure.status === 409 || hasTwilioCode(error, CONFLICT)) {
    // Studio runs one execution per contact at a time: the contact is mid-conversation.
    return { error: { code: 'CONTACT_ACTIVE', message }, retryAfterSeconds: RETRY_AFTER.contactActive };
  }
  if (failure.status === 429)
    return { error: { code: 'STUDIO_RATE_LIMITED', message }, retryAfterSeconds: RETRY_AFTER.transient };
  if (isUnprocessedTwilioFailure(error))
    return { error: { code: 'STUDIO_UNREACHABLE', message }, retryAfterSeconds: RETRY_AFTER.transient };
  if (typeof failure.status === 'number' && failure.status < 500) {
    return {
      error: { code: 'STUDIO_REFUSED', message: `HTTP ${failure.status} code ${failure.code ?? '-'}: ${message}` },
      retryAfterSeconds: RETRY_AFTER.refused,
    };
  }
  // A 5xx, a timeout or a dropped connection: the execution may exist although we did not hear so.
  return { error: { code: 'STUDIO_UNAVAILABLE', message, unsure: true }, retryAfterSeconds: RETRY_AFTER.transient };
}

/**
 * Studio's Executions API (`POST /v2/Flows/{FW}/Executions`, trigger `incomingRequest`). A create
 * is repeated within the request only when it surely did not land (429, no connection): a repeat
 * of one that did would start a second execution, so the caller records an unsure failure and
 * looks for the execution before trying again.
 */
export function twilioFlowDelivery(client: TwilioClient): FlowDelivery {
  return {
    async startExecution(target, data) {
      try {
        const execution = await withTwilioRetry(
          () =>
            client.studio.v2
              .flows(target.flowSid)
              .executions.create({ to: target.to, from: target.from, parameters: data }),
          isUnprocessedTwilioFailure,
        );
        return { ok: true, executionSid: execution.sid };
      } catch (error) {
        return { ok: false, ...attemptFailure(error) };
      }
    },
    async findExecution(target, jobId, createdSince) {
      const executions = await withTwilioRetry(() =>
        client.studio.v2
          .flows(target.flowSid)
          .executions.list({ dateCreatedFrom: new Date(createdSince - STUDIO_CLOCK_SLACK_MS), limit: LOOKUP_LIMIT }),
      );
      for (const execution of executions.filter((e) => e.contactChannelAddress === target.to)) {
        const context = await withTwilioRetry(() =>
          client.studio.v2.flows(target.flowSid).executions(execution.sid).executionContext().fetch(),
        );
        const data = (context.context as { flow?: { data?: { jobId?: unknown } } } | null)?.flow?.data;
        if (data?.jobId === jobId) return execution.sid;
      }
      return undefined;
    },
  };
}
