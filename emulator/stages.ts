/**
 * The stages of the Twilio request pipeline (pipeline.ts), each made from the deps it needs:
 *
 *   identify -> authenticate -> checkRequestAgainstSpec -> faults -> dispatch
 *   and then, whatever answered: checkReply.
 *
 * Fault injection (latency, 429/54009, 5xx, timeouts, dropped connections) goes between the spec
 * check and dispatch, so faults apply only to requests Twilio would have accepted. Faults that
 * strike after the operation call dispatch themselves (see faults.ts).
 */
import type { FaultInjector } from './faults';
import { json, type Reply } from './http-io';
import type { OpenApiChecker } from './openapi';
import type { Stage, TwilioRequest } from './pipeline';
import type { RouteTable } from './routes';
import { DEFAULT_ACCOUNT_SID, isSid } from './sids';
import type { RequestStats } from './stats';
import { ErrorCode, SPEC_VIOLATION_PREFIX, TwilioApiError, twilioErrorBody } from './twilio-errors';
import type { SpecViolation } from './types';

export interface StageDeps {
  checker: OpenApiChecker;
  routes: RouteTable;
  stats: RequestStats;
  /** Keeps a spec violation (the emulator's `violations()`). */
  record(violation: Omit<SpecViolation, 'at'>): void;
  log(line: string): void;
}

/** The pipeline's stages in order, and the reply check every answer goes through. */
export interface TwilioPipeline {
  stages: Stage[];
  checkReply(request: TwilioRequest, reply: Reply): Reply;
}

function specViolationReply(status: number, problems: string[]): Reply {
  return json(
    status,
    twilioErrorBody(
      status,
      status >= 500 ? ErrorCode.internal : ErrorCode.invalidParameter,
      SPEC_VIOLATION_PREFIX + problems.join('; '),
    ),
  );
}

/** Basic auth as Twilio requires it: `AccountSid:AuthToken` or `ApiKeySid:Secret`. */
function basicUser(header: string | undefined): string | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return decoded.slice(0, colon);
}

/** Finds the spec operation the method and path name, and counts the request under its stats name. */
export function identify({ checker, routes, stats }: Pick<StageDeps, 'checker' | 'routes' | 'stats'>): Stage {
  return (request) => {
    request.match = checker.findOperation(request.method, request.path);
    const match = request.match;
    request.operationName = match
      ? (routes[`${match.domain}:${match.operationId}`]?.name ?? `${match.domain}.${match.operationId}`)
      : 'unknown';
    stats.count(request.operationName);
    return undefined;
  };
}

/** Basic credentials are required (401 / 20003); the account is the path's, else the user's if it is one. */
export const authenticate: Stage = (request) => {
  const user = basicUser(request.headers.authorization);
  if (!user)
    return json(
      401,
      twilioErrorBody(401, ErrorCode.authenticationMissing, 'Authenticate: no Basic credentials were given'),
    );
  const pathAccount = request.match?.pathParams.AccountSid;
  request.accountSid = pathAccount ?? (isSid(user, 'AC') ? user : DEFAULT_ACCOUNT_SID);
  return undefined;
};

/** A request the spec refuses is recorded and answered 400 / 20001 `SPEC_VIOLATION: ...`. */
export function checkRequestAgainstSpec({ checker, record }: Pick<StageDeps, 'checker' | 'record'>): Stage {
  return (request) => {
    const problems = checker.checkRequest({
      method: request.method,
      path: request.path,
      query: request.query,
      form: request.form,
      headers: request.headers,
    });
    if (request.rawBody.length > 0 && request.contentType !== 'application/x-www-form-urlencoded') {
      problems.push(
        `body must be application/x-www-form-urlencoded, got "${request.contentType || 'no content type'}"`,
      );
    }
    if (problems.length === 0) return undefined;
    record({
      kind: 'request',
      method: request.method,
      path: request.path,
      operationId: request.match?.operationId,
      problems,
    });
    return specViolationReply(400, problems);
  };
}

/** Runs the operation's handler; the last stage, so it always answers (404 / 20404 for what the emulator lacks). */
export function dispatch({ routes, log }: Pick<StageDeps, 'routes' | 'log'>): (request: TwilioRequest) => Reply {
  return (request) => {
    const match = request.match;
    const route = match ? routes[`${match.domain}:${match.operationId}`] : undefined;
    if (!match || !route) {
      return json(
        404,
        twilioErrorBody(404, ErrorCode.notFound, `The emulator does not implement ${request.method} ${request.path}`),
      );
    }
    try {
      return route.handle({
        params: match.pathParams,
        query: request.query,
        form: request.form,
        headers: request.headers,
        accountSid: request.accountSid,
      });
    } catch (error) {
      if (error instanceof TwilioApiError) return json(error.status, error.body());
      log(`handler ${match.operationId} failed: ${(error as Error).stack ?? String(error)}`);
      return json(
        500,
        twilioErrorBody(500, ErrorCode.internal, `emulator error in ${match.operationId}: ${(error as Error).message}`),
      );
    }
  };
}

/** Every reply on an operation's path is checked; a wrong reply is recorded and becomes a 500. */
export function checkReply({ checker, record }: Pick<StageDeps, 'checker' | 'record'>): TwilioPipeline['checkReply'] {
  return (request, reply) => {
    if (reply.kind !== 'json' || !request.match) return reply;
    const problems = checker.checkResponse({
      method: request.method,
      path: request.path,
      status: reply.status,
      body: reply.body,
    });
    if (problems.length === 0) return reply;
    record({
      kind: 'response',
      method: request.method,
      path: request.path,
      operationId: request.match.operationId,
      problems,
    });
    return specViolationReply(
      500,
      problems.map((p) => `emulator reply: ${p}`),
    );
  };
}

/** The stages in their order, with the fault stage between the spec check and dispatch. */
export function twilioPipeline(deps: StageDeps, faults: FaultInjector): TwilioPipeline {
  const answer = dispatch(deps);
  return {
    stages: [identify(deps), authenticate, checkRequestAgainstSpec(deps), faults.stage(answer), answer],
    checkReply: checkReply(deps),
  };
}
