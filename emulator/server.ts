/**
 * Local stand-in for Twilio's REST API (Sync Documents, Conferences/Participants/Calls, Studio
 * Flows, IncomingPhoneNumbers), checked against Twilio's OpenAPI specs on every request and reply.
 *
 * Routing follows the service's rewriting client: `https://<domain>.twilio.com/<path>` is sent to
 * `<emulator url>/<domain>/<path>`; `/_emulator/...` is the control API (see control-api.ts).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControl, ReleaseWaiters } from './control-api';
import { FaultInjector } from './faults';
import { BodyTooLargeError, contentTypeOf, json, parseForm, readBody, send, type Reply } from './http-io';
import { defaultChecker, paramBagFromSearch, splitTwilioPath, type OpenApiChecker } from './openapi';
import { runStages, type Stage, type TwilioRequest } from './pipeline';
import type { RouteTable } from './routes';
import { DEFAULT_ACCOUNT_SID, isSid } from './sids';
import { RequestStats } from './stats';
import { StatusCallbackSender } from './status-callbacks';
import { ExecutionStore, studioExecutionRoutes } from './studio-executions';
import { FlowStore, studioFlowRoutes } from './studio-flows';
import { PhoneNumberStore, phoneNumberRoutes } from './phone-numbers';
import { SyncDocumentStore, syncDocumentRoutes } from './sync-documents';
import { systemClock } from './time';
import { checkProfile, DEFAULT_PROFILE, type TwilioBehaviour } from './twilio-behaviour';
import { ErrorCode, SPEC_VIOLATION_PREFIX, TwilioApiError, twilioErrorBody } from './twilio-errors';
import type { EmulatorHandle, EmulatorOptions, EmulatorState, SpecViolation } from './types';
import { voiceRoutes } from './voice-routes';
import { VoiceStore } from './voice-store';

export type { EmulatorHandle, EmulatorOptions, EmulatorState, SpecViolation } from './types';
export type { FaultConfig, FaultKind, FaultReport, FaultRule } from './faults';
export type { TwilioBehaviour } from './twilio-behaviour';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);
const EXPIRY_SWEEP_MS = 1000;

function specViolationReply(status: number, problems: string[]): Reply {
  return json(status, twilioErrorBody(status, status >= 500 ? ErrorCode.internal : ErrorCode.invalidParameter, SPEC_VIOLATION_PREFIX + problems.join('; ')));
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

export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) throw new Error(`the emulator listens on loopback only, not ${host}`);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => undefined);
  const checker: OpenApiChecker = defaultChecker();
  // The Twilio unknowns (twilio-behaviour.ts): `documented` unless told; switchable at run time.
  const startBehaviour = checkProfile(options.behaviour ?? DEFAULT_PROFILE, 'startEmulator({behaviour})');
  let behaviour = startBehaviour;
  const currentBehaviour = () => behaviour;
  const setBehaviour = (profile: TwilioBehaviour) => {
    behaviour = checkProfile(profile, 'behaviour');
    log(`behaviour profile: ${behaviour.name}`);
  };

  const stats = new RequestStats();
  const violations: SpecViolation[] = [];
  const releases = new ReleaseWaiters();
  const callbacks = new StatusCallbackSender({ clock, authToken: options.authToken, log, behaviour: currentBehaviour });
  const documents = new SyncDocumentStore(clock, { writeLimit: options.syncWriteLimit ?? true });
  const faults = new FaultInjector(options.faults ?? {});
  const flows = new FlowStore(clock);
  const numbers = new PhoneNumberStore(clock);
  const switches = () => behaviour.switches;
  const executions = new ExecutionStore(clock, flows, switches);
  const voice = new VoiceStore(
    clock,
    {
      conferenceEvent: (event) => callbacks.conferenceEvent(event),
      callReleased: (call, release) => releases.notify(call.sid, release),
    },
    switches,
  );
  const routes: RouteTable = { ...syncDocumentRoutes(documents), ...voiceRoutes(voice, clock, switches), ...studioFlowRoutes(flows), ...studioExecutionRoutes(executions), ...phoneNumberRoutes(numbers) };

  const record = (violation: Omit<SpecViolation, 'at'>) => {
    violations.push({ ...violation, at: new Date().toISOString() });
    log(`SPEC_VIOLATION (${violation.kind}) ${violation.method} ${violation.path}: ${violation.problems.join('; ')}`);
  };

  // ---- the Twilio request pipeline ------------------------------------------------------------

  const identify: Stage = (request) => {
    request.match = checker.findOperation(request.method, request.path);
    const match = request.match;
    request.operationName = match
      ? (routes[`${match.domain}:${match.operationId}`]?.name ?? `${match.domain}.${match.operationId}`)
      : 'unknown';
    stats.count(request.operationName);
    return undefined;
  };

  const authenticate: Stage = (request) => {
    const user = basicUser(request.headers.authorization);
    if (!user) return json(401, twilioErrorBody(401, ErrorCode.authenticationMissing, 'Authenticate: no Basic credentials were given'));
    const pathAccount = request.match?.pathParams.AccountSid;
    request.accountSid = pathAccount ?? (isSid(user, 'AC') ? user : DEFAULT_ACCOUNT_SID);
    return undefined;
  };

  const checkRequestAgainstSpec: Stage = (request) => {
    const problems = checker.checkRequest({
      method: request.method,
      path: request.path,
      query: request.query,
      form: request.form,
      headers: request.headers,
    });
    if (request.rawBody.length > 0 && request.contentType !== 'application/x-www-form-urlencoded') {
      problems.push(`body must be application/x-www-form-urlencoded, got "${request.contentType || 'no content type'}"`);
    }
    if (problems.length === 0) return undefined;
    record({ kind: 'request', method: request.method, path: request.path, operationId: request.match?.operationId, problems });
    return specViolationReply(400, problems);
  };

  const dispatch = (request: TwilioRequest): Reply => {
    const match = request.match;
    const route = match ? routes[`${match.domain}:${match.operationId}`] : undefined;
    if (!match || !route) {
      return json(404, twilioErrorBody(404, ErrorCode.notFound, `The emulator does not implement ${request.method} ${request.path}`));
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
      return json(500, twilioErrorBody(500, ErrorCode.internal, `emulator error in ${match.operationId}: ${(error as Error).message}`));
    }
  };

  // Fault injection (latency, 429/54009, 5xx, timeouts, dropped connections) goes between the
  // spec check and dispatch, so faults apply only to requests Twilio would have accepted. Faults
  // that strike after the operation call dispatch themselves (see faults.ts).
  const stages: Stage[] = [identify, authenticate, checkRequestAgainstSpec, faults.stage(dispatch), dispatch];

  /** Every reply on an operation's path is checked; a wrong reply is recorded and becomes a 500. */
  const checkReply = (request: TwilioRequest, reply: Reply): Reply => {
    if (reply.kind !== 'json' || !request.match) return reply;
    const problems = checker.checkResponse({ method: request.method, path: request.path, status: reply.status, body: reply.body });
    if (problems.length === 0) return reply;
    record({ kind: 'response', method: request.method, path: request.path, operationId: request.match.operationId, problems });
    return specViolationReply(500, problems.map((p) => `emulator reply: ${p}`));
  };

  // ---- HTTP -----------------------------------------------------------------------------------

  const state = (): EmulatorState => ({
    documents: documents.listAll().map((doc) => ({
      sid: doc.sid,
      serviceSid: doc.serviceSid,
      uniqueName: doc.uniqueName,
      revision: String(doc.revision),
      data: doc.data,
      dateExpires: doc.dateExpires === null ? null : new Date(doc.dateExpires).toISOString(),
      history: doc.history.map((version) => ({ revision: String(version.revision), data: version.data })),
    })),
    conferences: voice.listConferences().map((conference) => ({
      sid: conference.sid,
      friendlyName: conference.friendlyName,
      status: conference.status,
      participants: [...conference.participants.keys()],
    })),
    executions: executions.all().map((execution) => ({
      sid: execution.sid,
      flowSid: execution.flowSid,
      contact: execution.contact,
      status: execution.status,
      startedBy: execution.startedBy,
      trigger: execution.trigger,
      data: execution.data,
    })),
  });

  const reset = async () => {
    faults.reset();
    behaviour = startBehaviour;
    releases.cancelAll();
    documents.clear();
    executions.clear();
    flows.clear();
    numbers.clear();
    voice.clear();
    stats.reset();
    violations.length = 0;
    await callbacks.cancelAll();
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req);
    const query = paramBagFromSearch(url.search);

    if (url.pathname.startsWith('/_emulator/')) {
      const aborted = new AbortController();
      res.on('close', () => aborted.abort());
      const reply = await handleControl(
        {
          voice,
          releases,
          executions,
          stats: () => stats.snapshot(),
          violations: () => [...violations],
          reset,
          faults,
          state,
          behaviour: { get: currentBehaviour, set: setBehaviour },
        },
        method,
        url.pathname,
        query,
        body,
        aborted.signal,
      );
      if (!res.destroyed) send(res, reply);
      return;
    }
    if (!splitTwilioPath(url.pathname)) {
      send(res, json(404, { error: `not a Twilio API path or control route: ${url.pathname}` }));
      return;
    }
    const contentType = contentTypeOf(req);
    const request: TwilioRequest = {
      method,
      path: url.pathname,
      query,
      form: contentType === 'application/x-www-form-urlencoded' ? parseForm(body) : {},
      headers: req.headers,
      contentType,
      rawBody: body,
      operationName: 'unknown',
      accountSid: DEFAULT_ACCOUNT_SID,
    };
    send(res, checkReply(request, await runStages(stages, request)));
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof BodyTooLargeError) {
        send(res, json(413, twilioErrorBody(413, ErrorCode.invalidParameter, error.message)));
        return;
      }
      log(`emulator failed on ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
      send(res, json(500, twilioErrorBody(500, ErrorCode.internal, 'emulator failure')));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const sweeper = setInterval(() => documents.sweep(), EXPIRY_SWEEP_MS);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats: () => stats.snapshot(),
    violations: () => [...violations],
    reset: () => {
      void reset();
    },
    faults: {
      configure: (config) => faults.configure(config),
      clear: () => faults.clear(),
      report: () => faults.report(),
    },
    state,
    get behaviour() {
      return behaviour;
    },
    setBehaviour,
    close: () => {
      closing ??= (async () => {
        clearInterval(sweeper);
        faults.releaseHeld();
        releases.cancelAll();
        await callbacks.cancelAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
