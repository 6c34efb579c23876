/// <reference types="@twilio-labs/serverless-runtime-types" />
import type {
  Context,
  ServerlessCallback,
  ServerlessFunctionSignature,
} from '@twilio-labs/serverless-runtime-types/types';
import { ConfigError } from '../config';
import { withRequestBudget } from './budget';
import { HttpError } from './errors';
import { describeTwilioFailure } from '../store/twilio-errors';

/** What a function handler computes; the wrapper turns it into a Twilio.Response. */
export type Reply =
  | { kind: 'json'; status: number; body: object; headers?: Record<string, string> }
  | { kind: 'twiml'; twiml: string }
  | { kind: 'empty'; status: number };

export type RuntimeEvent = Record<string, unknown> & {
  request?: { headers?: Record<string, string | string[] | undefined>; cookies?: unknown };
};

export type HandlerContext = Context<Record<string, string | undefined>>;

export const json = (status: number, body: object, headers?: Record<string, string>): Reply => ({ kind: 'json', status, body, ...(headers ? { headers } : {}) });
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

/** Maps anything thrown to a JSON error reply: known failures keep their code, the rest never leak a stack. */
export function errorReply(error: unknown): Reply {
  if (error instanceof HttpError) {
    const retryAfter = error.retryAfterSeconds;
    if (retryAfter === undefined) return json(error.status, { error: { code: error.code, message: error.message } });
    return json(error.status, { error: { code: error.code, message: error.message }, retryAfter }, { 'Retry-After': String(retryAfter) });
  }
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    return json(500, { error: { code: 'MISCONFIGURED', message: error.message } });
  }
  const twilioFailure = describeTwilioFailure(error);
  if (twilioFailure) {
    console.error(`Twilio API failure: ${twilioFailure}`);
    return json(503, {
      error: { code: 'TWILIO_UNAVAILABLE', message: `Twilio API unavailable, try again: ${twilioFailure}` },
    });
  }
  console.error('Unexpected failure', error instanceof Error ? error.message : String(error));
  return json(500, { error: { code: 'INTERNAL', message: 'Unexpected failure; see the function logs' } });
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
