/** How Twilio operations map to the emulator's handlers and to stats names. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Reply } from './http-io';
import type { ParamBag } from './openapi';

export interface HandlerInput {
  /** Path parameters named as in the spec (`ServiceSid`, `Sid`, `AccountSid`, ...). */
  params: Record<string, string>;
  query: ParamBag;
  form: ParamBag;
  headers: IncomingHttpHeaders;
  accountSid: string;
}

export type Handler = (input: HandlerInput) => Reply;

export interface Route {
  /** Stats name such as `sync.documents.create`. */
  name: string;
  handle: Handler;
}

/** Keyed by `<domain>:<operationId>`, e.g. `sync:CreateDocument`. */
export type RouteTable = Record<string, Route>;

/** First value of a form or query parameter. */
export function one(bag: ParamBag, name: string): string | undefined {
  const value = bag[name];
  return Array.isArray(value) ? value[0] : value;
}
