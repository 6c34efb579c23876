/// <reference types="@twilio-labs/serverless-runtime-types" />
import type {
  Context,
  ServerlessCallback,
  ServerlessFunctionSignature,
} from '@twilio-labs/serverless-runtime-types/types';
import { ConfigError } from '../config';
import { ERROR_CODES, type ErrorCode, type ErrorReply } from '../contracts';
import { withRequestBudget } from '../runtime/budget';
import { describeTwilioFailure } from '../twilio/errors';
import { httpErrorOf } from './errors';

/** What a function handler computes; the wrapper turns it into a Twilio.Response. */
export type Reply =
  | { kind: 'json'; status: number; body: object; headers?: Record<string, string> }
  | { kind: 'twiml'; twiml: string }
  | { kind: 'empty'; status: number };

export type RuntimeEvent = Record<string, unknown> & {
  request?: { headers?: Record<string, string | string[] | undefined>; cookies?: unknown };
};

export type HandlerContext = Context<Record<string, string | undefined>>;

export const json = (status: number, body: object, headers?: Record<string, string>): Reply => ({
  kind: 'json',
  status,
  body,
  ...(headers ? { headers } : {}),
});
export const twiml = (xml: string): Reply => ({ kind: 'twiml', twiml: xml });
export const empty = (status = 204): Reply => ({ kind: 'empty', status });

function toResponse(reply: Reply) {
  const response = new Twilio.Response();
  switch (reply.kind) {
    case 'json':
      response.setStatusCode(reply.status);
      response.appendHeader('Content-Type', 'application/json');
      for (const [name, value] of Object.entries(reply.headers ?? {})) response.appendHeader(name, value);
      response.setBody(reply.body);
      break;
    case 'twiml':
      response.setStatusCode(200);
      response.appendHeader('Content-Type', 'text/xml');
      response.setBody(reply.twiml);
      break;
    case 'empty':
      response.setStatusCode(reply.status);
      break;
  }
  return response;
}

/** An error reply with the code's HTTP status (ERROR_CODES); a `retryAfter` also goes in the Retry-After header. */
function errorJson(code: ErrorCode, message: string, retryAfter?: number): Reply {
  if (retryAfter === undefined) {
    const body: ErrorReply = { error: { code, message } };
    return json(ERROR_CODES[code], body);
  }
  const body: ErrorReply = { error: { code, message }, retryAfter };
  return json(ERROR_CODES[code], body, { 'Retry-After': String(retryAfter) });
}

/**
 * Maps anything thrown to a JSON error reply: our answers (HttpError, the job domain's
 * refusals) keep their code, Twilio trouble is TWILIO_UNAVAILABLE, and the rest never leak a stack.
 */
export function errorReply(error: unknown): Reply {
  const answer = httpErrorOf(error);
  if (answer) return errorJson(answer.code, answer.message, answer.retryAfterSeconds);
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    return errorJson('MISCONFIGURED', error.message);
  }
  const twilioFailure = describeTwilioFailure(error);
  if (twilioFailure) {
    console.error(`Twilio API failure: ${twilioFailure}`);
    return errorJson('TWILIO_UNAVAILABLE', `Twilio API unavailable, try again: ${twilioFailure}`);
  }
  console.error('Unexpected failure', error instanceof Error ? error.message : String(error));
  return errorJson('INTERNAL', 'Unexpected failure; see the function logs');
}

/** Wraps an async handler in Twilio's (context, event, callback) signature, with its time budget. */
export function defineHandler(
  handle: (context: HandlerContext, event: RuntimeEvent) => Promise<Reply>,
): ServerlessFunctionSignature {
  return async (context, event, callback: ServerlessCallback) => {
    let reply: Reply;
    try {
      reply = await withRequestBudget(() => handle(context as HandlerContext, event as RuntimeEvent));
    } catch (error) {
      reply = errorReply(error);
    }
    callback(null, toResponse(reply));
  };
}

/** The request's header, lower-cased name, first value. */
export function header(event: RuntimeEvent, name: string): string | undefined {
  const value = event.request?.headers?.[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Event fields sent by the caller (the runtime adds `request`). */
export function callerParams(event: RuntimeEvent): Record<string, unknown> {
  const { request: _request, ...params } = event;
  return params;
}
