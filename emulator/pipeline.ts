/**
 * The request pipeline for Twilio API routes: an ordered list of stages, each of which may answer.
 *
 *   identify -> authenticate -> check request against the spec -> faults -> dispatch
 *   and then, whatever answered: check the reply against the spec.
 *
 * The stages themselves are in stages.ts.
 *
 * The fault stage (faults.ts: latency, 429 with code 54009, 5xx, silent timeouts, dropped
 * connections) can wait, answer a Twilio error, or answer `{kind: 'drop'}`; for faults that strike
 * after the operation it runs dispatch itself first. Its reply still goes through the reply check.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Reply } from './http-io';
import type { OperationMatch, ParamBag } from './openapi';

export interface TwilioRequest {
  method: string;
  /** Emulator path without the query, e.g. `/sync/v1/Services/default/Documents`. */
  path: string;
  query: ParamBag;
  form: ParamBag;
  headers: IncomingHttpHeaders;
  contentType: string;
  rawBody: Buffer;
  /** Set by the identify stage when the path and method name an operation of the specs. */
  match?: OperationMatch;
  /** Stats name, e.g. `sync.documents.create`; `unknown` when nothing matched. */
  operationName: string;
  /** Account the request acts for (path AccountSid, else the Basic-auth user, else the default). */
  accountSid: string;
}

/** A stage answers with a reply (ending the pipeline) or `undefined` to pass the request on. */
export type Stage = (request: TwilioRequest) => Reply | undefined | Promise<Reply | undefined>;

export async function runStages(stages: Stage[], request: TwilioRequest): Promise<Reply> {
  for (const stage of stages) {
    const reply = await stage(request);
    if (reply) return reply;
  }
  throw new Error('pipeline ended without a reply: the last stage must always answer');
}
