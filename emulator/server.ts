/**
 * Local stand-in for Twilio's REST API (Sync Documents, Conferences/Participants/Calls, Studio
 * Flows, IncomingPhoneNumbers), checked against Twilio's OpenAPI specs on every request and reply.
 *
 * Routing follows the service's rewriting client: `https://<domain>.twilio.com/<path>` is sent to
 * `<emulator url>/<domain>/<path>`; `/_emulator/...` is the control API (see control-api.ts).
 * This file is the HTTP side; the Twilio request pipeline's stages are in stages.ts, what the
 * emulator holds in emulator-core.ts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControl } from './control-api';
import { EmulatorCore } from './emulator-core';
import { BodyTooLargeError, contentTypeOf, json, parseForm, readBody, send } from './http-io';
import { defaultChecker, paramBagFromSearch, splitTwilioPath, type ParamBag } from './openapi';
import { runStages, type TwilioRequest } from './pipeline';
import { DEFAULT_ACCOUNT_SID } from './sids';
import { twilioPipeline, type TwilioPipeline } from './stages';
import { systemClock } from './time';
import { checkProfile, DEFAULT_PROFILE } from './twilio-behaviour';
import { ErrorCode, twilioErrorBody } from './twilio-errors';
import type { EmulatorHandle, EmulatorOptions } from './types';

export type { EmulatorHandle, EmulatorOptions, EmulatorState, SpecViolation } from './types';
export type { FaultConfig, FaultKind, FaultReport, FaultRule } from './faults';
export type { TwilioBehaviour } from './twilio-behaviour';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);
const EXPIRY_SWEEP_MS = 1000;

/** One HTTP request as the emulator first sees it: where it goes, and its whole body. */
interface Arrival {
  method: string;
  url: URL;
  query: ParamBag;
  body: Buffer;
}

/** `/_emulator/...`: the control API, whose long-polls end when the client goes away. */
async function serveControl(core: EmulatorCore, arrival: Arrival, res: http.ServerResponse): Promise<void> {
  const aborted = new AbortController();
  res.on('close', () => aborted.abort());
  const reply = await handleControl(
    core.controlDeps(),
    arrival.method,
    arrival.url.pathname,
    arrival.query,
    arrival.body,
    aborted.signal,
  );
  if (!res.destroyed) send(res, reply);
}

function twilioRequestOf(req: http.IncomingMessage, arrival: Arrival): TwilioRequest {
  const contentType = contentTypeOf(req);
  return {
    method: arrival.method,
    path: arrival.url.pathname,
    query: arrival.query,
    form: contentType === 'application/x-www-form-urlencoded' ? parseForm(arrival.body) : {},
    headers: req.headers,
    contentType,
    rawBody: arrival.body,
    operationName: 'unknown',
    accountSid: DEFAULT_ACCOUNT_SID,
  };
}

/** Routes a request: the control API, a Twilio API path through the pipeline, or 404. */
async function handle(
  core: EmulatorCore,
  pipeline: TwilioPipeline,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.local');
  const arrival: Arrival = {
    method: (req.method ?? 'GET').toUpperCase(),
    url,
    body: await readBody(req),
    query: paramBagFromSearch(url.search),
  };
  if (url.pathname.startsWith('/_emulator/')) return serveControl(core, arrival, res);
  if (!splitTwilioPath(url.pathname)) {
    send(res, json(404, { error: `not a Twilio API path or control route: ${url.pathname}` }));
    return;
  }
  const request = twilioRequestOf(req, arrival);
  send(res, pipeline.checkReply(request, await runStages(pipeline.stages, request)));
}

function requestListener(
  core: EmulatorCore,
  pipeline: TwilioPipeline,
  log: (line: string) => void,
): http.RequestListener {
  return (req, res) => {
    handle(core, pipeline, req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof BodyTooLargeError) {
        send(res, json(413, twilioErrorBody(413, ErrorCode.invalidParameter, error.message)));
        return;
      }
      log(`emulator failed on ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
      send(res, json(500, twilioErrorBody(500, ErrorCode.internal, 'emulator failure')));
    });
  };
}

async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function emulatorHandle(core: EmulatorCore, server: http.Server, url: string, port: number): EmulatorHandle {
  const sweeper = setInterval(() => core.documents.sweep(), EXPIRY_SWEEP_MS);
  sweeper.unref();
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stats: () => core.stats.snapshot(),
    violations: () => [...core.violations],
    reset: () => {
      void core.reset();
    },
    faults: {
      configure: (config) => core.faults.configure(config),
      clear: () => core.faults.clear(),
      report: () => core.faults.report(),
    },
    state: () => core.state(),
    get behaviour() {
      return core.behaviour;
    },
    setBehaviour: (profile) => core.setBehaviour(profile),
    close: () => {
      closing ??= (async () => {
        clearInterval(sweeper);
        await core.shutdown();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) throw new Error(`the emulator listens on loopback only, not ${host}`);
  const log = options.log ?? (() => undefined);
  const core = new EmulatorCore({
    clock: options.clock ?? systemClock,
    log,
    authToken: options.authToken,
    syncWriteLimit: options.syncWriteLimit ?? true,
    faults: options.faults ?? {},
    // The Twilio unknowns (twilio-behaviour.ts): `documented` unless told; switchable at run time.
    behaviour: checkProfile(options.behaviour ?? DEFAULT_PROFILE, 'startEmulator({behaviour})'),
  });
  const pipeline = twilioPipeline(
    {
      checker: defaultChecker(),
      routes: core.routes,
      stats: core.stats,
      record: (violation) => core.record(violation),
      log,
    },
    core.faults,
  );
  const server = http.createServer(requestListener(core, pipeline, log));
  const port = await listen(server, options.port ?? 0, host);
  return emulatorHandle(core, server, `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port);
}
