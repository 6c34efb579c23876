/**
 * Serves a rehearsed deploy the way the platform runs it: the environment's deployed Function
 * and Asset Versions, run by Twilio's own runtime (`@twilio/runtime-handler`, the version the
 * build declared), from a clean folder that holds nothing but the uploaded files and the build's
 * declared dependencies with their own dependency closure. A function that `require`s a package
 * the build did not declare fails here as it would on Twilio, even though it works from dist/
 * (where the whole of node_modules, devDependencies included, is one folder up).
 *
 * Layout of the private temporary folder:
 *   service/package.json         the declared dependencies, as the platform installs them
 *   service/node_modules/<name>  a link per package of the closure (only those)
 *   service/functions/<path>.js  each Function Version's uploaded content
 *   service/assets/<path>        each Asset Version's uploaded content
 *   host.js                      starts the runtime-handler's server (outside service/: not routable)
 *
 * Two processes: the runtime runs in a child (its own globals, an environment made of the
 * service's Variables only, nothing inherited from this process); in front of it, in this
 * process, the domain's edge checks what the platform checks before a function runs: a protected
 * function or asset needs a valid `X-Twilio-Signature` (Twilio's algorithm, checked with the
 * `twilio` library's validateRequest and the account's auth token), or the request is answered
 * HTTP 400 and never reaches the function; a private one is answered 403. Both listen on
 * 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { contentTypeOf, readBody } from '../http-io';
import type { DeployedEnvironment, Upload } from './standin';

const MAX_BODY_BYTES = 6 * 1024 * 1024; // the runtime-handler's own body limit
const READY_TIMEOUT_MS = 20_000;

export interface ClosurePackage {
  name: string;
  version: string;
  /** The installed package's folder (real path). */
  dir: string;
}

export interface DependencyClosure {
  /** Packages linked at the top of the clean node_modules (nested ones come inside them). */
  packages: ClosurePackage[];
  /** Declared packages that are missing or installed at another version: the build cannot run. */
  problems: string[];
  /** Declared with a range rather than an exact version: served at the installed version. */
  notes: string[];
}

function readPackage(dir: string): {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
} {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
}

/** Finds a package from a folder the way Node does: each node_modules up to `rootDir`'s. */
function packageLocator(rootDir: string): (fromDir: string, name: string) => string | undefined {
  return (fromDir, name) => {
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
      if (path.basename(dir) !== 'node_modules') {
        const candidate = path.join(dir, 'node_modules', name);
        if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
      }
      if (dir === rootDir || dir === path.dirname(dir)) return undefined;
    }
  };
}

type Locate = ReturnType<typeof packageLocator>;

/** The declared packages' folders; what is missing or at another version goes to `problems`, ranges to `notes`. */
function declaredPackages(
  declared: Array<{ name: string; version: string }>,
  locate: Locate,
  rootDir: string,
  nodeModules: string,
  closure: Pick<DependencyClosure, 'problems' | 'notes'>,
): string[] {
  const dirs: string[] = [];
  for (const { name, version } of declared) {
    const dir = locate(rootDir, name);
    if (!dir) {
      closure.problems.push(`${name}@${version} is declared but not installed in ${nodeModules}: run npm ci`);
      continue;
    }
    const installed = readPackage(dir).version ?? '';
    if (/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
      if (installed !== version)
        closure.problems.push(
          `${name}: the build declares ${version}, node_modules has ${installed}: the platform would install ${version}; run npm ci`,
        );
    } else {
      closure.notes.push(
        `${name} is declared as "${version}": served at the installed ${installed} (the platform picks its own match)`,
      );
    }
    dirs.push(dir);
  }
  return dirs;
}

/** A package's dependencies, each with whether it may be missing (optional, peer, or an optional peer). */
function wantedBy(pkg: ReturnType<typeof readPackage>): Array<[string, boolean]> {
  const optionalPeers = new Set(
    Object.entries(pkg.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta.optional)
      .map(([name]) => name),
  );
  return [
    ...Object.keys(pkg.dependencies ?? {}).map((name): [string, boolean] => [name, optionalPeers.has(name)]),
    ...Object.keys(pkg.optionalDependencies ?? {}).map((name): [string, boolean] => [name, true]),
    ...Object.keys(pkg.peerDependencies ?? {}).map((name): [string, boolean] => [name, true]),
  ];
}

/** Every package folder reached from `start`, breadth first; required ones not installed go to `problems`. */
function reachableFrom(start: string[], locate: Locate, problems: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const pkg = readPackage(dir);
    for (const [name, optional] of wantedBy(pkg)) {
      const found = locate(dir, name);
      if (found) queue.push(found);
      else if (!optional) problems.push(`${pkg.name} needs ${name}, which is not installed`);
    }
  }
  return seen;
}

/**
 * The packages `declared` needs, found the way Node finds them, from the installed node_modules:
 * each declared package, then its dependencies (and optional and peer ones that are installed),
 * and theirs. Only what the closure reaches is returned; devDependencies are not in it.
 */
export function dependencyClosure(
  nodeModules: string,
  declared: Array<{ name: string; version: string }>,
): DependencyClosure {
  const root = fs.realpathSync(nodeModules);
  const rootDir = path.dirname(root);
  const locate = packageLocator(rootDir);
  const closure: DependencyClosure = { packages: [], problems: [], notes: [] };
  const start = declaredPackages(declared, locate, rootDir, nodeModules, closure);
  for (const dir of reachableFrom(start, locate, closure.problems)) {
    const relative = path.relative(root, dir);
    if (relative.split(path.sep).includes('node_modules')) continue; // nested: inside a linked package
    const pkg = readPackage(dir);
    closure.packages.push({
      name: relative.split(path.sep).join('/'),
      version: pkg.version ?? '',
      dir: fs.realpathSync(dir),
    });
  }
  closure.packages.sort((a, b) => a.name.localeCompare(b.name));
  return closure;
}

/** The runtime's host, plain CommonJS: loads the declared runtime-handler from the clean folder. */
const HOST_SCRIPT = `'use strict';
const http = require('node:http');
process.once('message', (config) => {
  const entry = require.resolve('@twilio/runtime-handler/dev', { paths: [config.baseDir] });
  const { LocalDevelopmentServer } = require(entry);
  const logger = {
    debug() {},
    info: (m) => console.log(m),
    warn: (m) => console.warn(m),
    error: (m) => console.error(m),
    log: (m) => console.log(m),
  };
  const server = new LocalDevelopmentServer(0, { ...config, logger });
  const listener = http.createServer(server.getApp());
  listener.listen(0, '127.0.0.1', () => process.send({ port: listener.address().port, entry }));
});
process.on('disconnect', () => process.exit(0));
`;

export interface DomainRequest {
  method: string;
  path: string;
  status: number;
  /** For protected resources: whether the signature checked out. */
  signature?: 'valid' | 'missing' | 'invalid';
}

export interface ServeDeployedOptions {
  deployed: DeployedEnvironment;
  /** The account's credentials: the signature check's token, and the functions' when included. */
  accountSid: string;
  authToken: string;
  /** Where the declared dependencies are installed (this project's node_modules). */
  nodeModules: string;
  /**
   * Environment added on top of the Variables to run locally (e.g. TWILIO_API_BASE_URL pointing
   * at the emulator). Never part of what was deployed; shown in `localOverrides`.
   */
  localEnv?: Record<string, string>;
  /** Each line the functions print (console.log/error), as it comes. */
  log?: (line: string) => void;
}

export interface ServedDomain {
  /** Where the domain answers here, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The twil.io domain it stands for. */
  domain: string;
  /** The clean service folder (functions/, assets/, node_modules/, package.json). */
  serviceDir: string;
  closure: DependencyClosure;
  /** The runtime-handler file the runtime was started from (inside the clean node_modules). */
  runtimeEntry: string;
  /** Keys of localEnv: what differs from the deployed environment. */
  localOverrides: string[];
  requests: DomainRequest[];
  /** Recent output of the functions. */
  output(): string;
  close(): Promise<void>;
}

export class DeployedBuildError extends Error {}

function resourceFile(base: string, upload: Upload): string {
  const relative = upload.path.replace(/^\/+/, '');
  if (relative === '' || relative.split('/').includes('..'))
    throw new DeployedBuildError(`cannot serve the path ${JSON.stringify(upload.path)}`);
  return path.join(base, ...relative.split('/')) + (upload.kind === 'function' ? '.js' : '');
}

function formParams(body: Buffer): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    const existing = params[key];
    params[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

/** The signature check of a protected resource: the URL the request reached, and its POST params. */
export function checkTwilioSignature(
  authToken: string,
  req: http.IncomingMessage,
  body: Buffer,
): 'valid' | 'missing' | 'invalid' {
  const header = req.headers['x-twilio-signature'];
  if (typeof header !== 'string' || header === '') return 'missing';
  if (!authToken) return 'invalid';
  const url = `http://${req.headers.host ?? ''}${req.url ?? '/'}`;
  const type = contentTypeOf(req);
  if (type === 'application/json' && /[?&]bodySHA256=/.test(url)) {
    return twilio.validateRequestWithBody(authToken, header, url, body.toString('utf8')) ? 'valid' : 'invalid';
  }
  const params = req.method === 'POST' && type === 'application/x-www-form-urlencoded' ? formParams(body) : {};
  return twilio.validateRequest(authToken, header, url, params) ? 'valid' : 'invalid';
}

/** The runtime-handler's route list: each upload written to its file in the clean folder. */
type RuntimeRoutes = { functions: RuntimeRoute[]; assets: RuntimeRoute[] };
type RuntimeRoute = { name: string; path: string; access: string; content: string; filePath: string };

/** Throws DeployedBuildError when the build cannot be served: dependencies missing, or no runtime declared. */
function checkServable(deployed: DeployedEnvironment, closure: DependencyClosure): void {
  if (closure.problems.length > 0)
    throw new DeployedBuildError(`the build's dependencies cannot be served:\n  ${closure.problems.join('\n  ')}`);
  if (!deployed.dependencies.some((d) => d.name === '@twilio/runtime-handler')) {
    throw new DeployedBuildError(
      'the build does not declare @twilio/runtime-handler, so there is no runtime to serve it with',
    );
  }
}

/** Writes the clean service folder (package.json, node_modules links, functions, assets) and the host script. */
function layOutServiceFolder(
  root: string,
  deployed: DeployedEnvironment,
  closure: DependencyClosure,
): { serviceDir: string; routes: RuntimeRoutes; hostFile: string } {
  const serviceDir = path.join(root, 'service');
  fs.mkdirSync(path.join(serviceDir, 'node_modules'), { recursive: true });
  fs.writeFileSync(
    path.join(serviceDir, 'package.json'),
    `${JSON.stringify({ name: deployed.serviceName, private: true, dependencies: Object.fromEntries(deployed.dependencies.map((d) => [d.name, d.version])) }, null, 2)}\n`,
  );
  for (const pkg of closure.packages) {
    const link = path.join(serviceDir, 'node_modules', ...pkg.name.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(pkg.dir, link, 'dir');
  }
  const route = (upload: Upload): RuntimeRoute => {
    const filePath = resourceFile(path.join(serviceDir, upload.kind === 'function' ? 'functions' : 'assets'), upload);
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    fs.writeFileSync(filePath, upload.content);
    return { name: upload.name, path: upload.path, access: upload.visibility, content: '', filePath };
  };
  const routes = { functions: deployed.functions.map(route), assets: deployed.assets.map(route) };
  const hostFile = path.join(root, 'host.js');
  fs.writeFileSync(hostFile, HOST_SCRIPT);
  return { serviceDir, routes, hostFile };
}

/**
 * The domain's edge: what the platform checks before a function runs (private: 403; protected:
 * a valid X-Twilio-Signature or 400), then the request is passed to the runtime at `innerPort()`.
 */
function edgeServer(
  deployed: DeployedEnvironment,
  authToken: string,
  requests: DomainRequest[],
  innerPort: () => number,
): http.Server {
  const visibility = new Map<string, string>(
    [...deployed.functions, ...deployed.assets].map((u) => [u.path, u.visibility]),
  );
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://domain.local').pathname;
    const record: DomainRequest = { method: req.method ?? 'GET', path: pathname, status: 0 };
    requests.push(record);
    const answer = (status: number, text: string) => {
      record.status = status;
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(text)),
      });
      res.end(text);
    };
    readBody(req, MAX_BODY_BYTES)
      .then((body) => {
        const access = visibility.get(pathname);
        if (access === 'private')
          return answer(403, `${pathname} is private: it can only be used from the service's own functions\n`);
        if (access === 'protected') {
          record.signature = checkTwilioSignature(authToken, req, body);
          if (record.signature !== 'valid') {
            return answer(
              400,
              `${pathname} is protected: the request needs a valid X-Twilio-Signature (${record.signature === 'missing' ? 'none was sent' : 'the one sent does not match'})\n`,
            );
          }
        }
        const inner = http.request(
          { host: '127.0.0.1', port: innerPort(), method: req.method, path: req.url, headers: req.headers },
          (reply) => {
            record.status = reply.statusCode ?? 502;
            res.writeHead(record.status, endToEndHeaders(reply.headers));
            reply.pipe(res);
          },
        );
        inner.on('error', (error) =>
          res.headersSent ? res.destroy() : answer(502, `the runtime did not answer: ${error.message}\n`),
        );
        inner.end(body);
      })
      .catch((error: unknown) => (res.headersSent ? res.destroy() : answer(413, `${(error as Error).message}\n`)));
  });
  // Idle client connections stay open a minute (Node's default is 5 s): a client reusing one after
  // a few seconds' pause must not meet a socket the edge is just closing (ECONNRESET).
  server.keepAliveTimeout = EDGE_KEEP_ALIVE_MS;
  return server;
}

const EDGE_KEEP_ALIVE_MS = 65_000;
/** Headers about one connection (RFC 9110 §7.6.1): the runtime's stay on its side of the edge. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

async function listenOnLoopback(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The functions' environment: the service's Variables (and credentials when included), then localEnv. */
function runtimeEnv(deployed: DeployedEnvironment, options: ServeDeployedOptions): Record<string, string> {
  return {
    ...deployed.variables,
    ...(deployed.includeCredentials ? { ACCOUNT_SID: options.accountSid, AUTH_TOKEN: options.authToken } : {}),
    SERVICE_SID: deployed.serviceSid,
    ENVIRONMENT_SID: deployed.environmentSid,
    ...options.localEnv,
  };
}

/** The functions' output, line by line: the last 200 kept, each passed to `log` as it comes. */
class RecentOutput {
  readonly lines: string[] = [];

  constructor(private readonly log?: (line: string) => void) {}

  keep(chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      this.lines.push(line);
      if (this.lines.length > 200) this.lines.shift();
      this.log?.(line);
    }
  }
}

interface RuntimeStart {
  serviceDir: string;
  hostFile: string;
  env: Record<string, string>;
  /** The edge's URL, where the runtime is reached (its DOMAIN_NAME). */
  url: string;
  routes: RuntimeRoutes;
  appName: string;
}

/** Starts the runtime in a child; `ready` resolves with its port once it serves. */
function spawnRuntime(
  start: RuntimeStart,
  output: RecentOutput,
): { child: ChildProcess; ready: Promise<{ port: number; entry: string }> } {
  // Nothing of this process's environment (NODE_OPTIONS, NODE_PATH, loaders, the shell's keys).
  const child = spawn(process.execPath, [start.hostFile], {
    cwd: start.serviceDir,
    env: start.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (chunk: Buffer) => output.keep(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.keep(chunk));
  const ready = new Promise<{ port: number; entry: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new DeployedBuildError(`the runtime did not start within ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as { port: number; entry: string });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new DeployedBuildError(`the runtime exited (code ${code}) before serving:\n${output.lines.join('\n')}`));
    });
    child.send({
      baseDir: start.serviceDir,
      env: start.env,
      port: 0,
      url: start.url,
      detailedLogs: false,
      live: false,
      logs: false,
      legacyMode: false,
      appName: start.appName,
      forkProcess: false,
      routes: start.routes,
      enableDebugLogs: false,
    });
  });
  return { child, ready };
}

async function closeServer(server: http.Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Lays out the clean service folder, starts the runtime and the domain's edge in front of it. */
export async function serveDeployed(options: ServeDeployedOptions): Promise<ServedDomain> {
  const { deployed } = options;
  const closure = dependencyClosure(options.nodeModules, deployed.dependencies);
  checkServable(deployed, closure);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-domain-'));
  let child: ChildProcess | undefined;
  let front: http.Server | undefined;
  try {
    const { serviceDir, routes, hostFile } = layOutServiceFolder(root, deployed, closure);
    const requests: DomainRequest[] = [];
    let innerPort = 0;
    // The edge listens first, so the runtime knows the URL it is reached at (DOMAIN_NAME).
    front = edgeServer(deployed, options.authToken, requests, () => innerPort);
    const url = await listenOnLoopback(front);
    const output = new RecentOutput(options.log);
    const runtime = spawnRuntime(
      { serviceDir, hostFile, env: runtimeEnv(deployed, options), url, routes, appName: deployed.serviceName },
      output,
    );
    child = runtime.child;
    const ready = await runtime.ready;
    innerPort = ready.port;
    let closing: Promise<void> | undefined;
    const [runningChild, runningFront] = [child, front];
    return {
      url,
      domain: deployed.domain,
      serviceDir,
      closure,
      runtimeEntry: ready.entry,
      localOverrides: Object.keys(options.localEnv ?? {}).sort(),
      requests,
      output: () => output.lines.join('\n'),
      close: () => {
        closing ??= (async () => {
          await closeServer(runningFront);
          await stopChild(runningChild);
          fs.rmSync(root, { recursive: true, force: true });
        })();
        return closing;
      },
    };
  } catch (error) {
    front?.close();
    front?.closeAllConnections();
    if (child) await stopChild(child);
    fs.rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
