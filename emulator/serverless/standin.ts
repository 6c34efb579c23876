/**
 * A local stand-in of Twilio's Serverless API (serverless.twilio.com and its upload host
 * serverless-upload.twilio.com), enough for `twilio-run deploy` to run through: Services,
 * Environments, Functions and Function Versions (multipart uploads), Assets and Asset Versions,
 * Variables, Builds and Build Status, Deployments.
 *
 * Every request and every reply on serverless.twilio.com is checked against Twilio's published
 * spec (twilio_serverless_v1.json, through emulator/openapi.ts's checker); a request that does not
 * conform is answered 400 the way Twilio answers bad input, so drift in twilio-run shows up here.
 * The upload host is not in the spec: its multipart fields are checked by hand, and its replies
 * against the spec's Function Version / Asset Version resources.
 *
 * What was uploaded is kept (`uploads`, `builds`, `variables`) for the rehearsal's report and
 * the tests.
 */
import { randomInt } from 'node:crypto';
import { contentTypeOf } from '../http-io';
import { defaultChecker, paramBagFromSearch, type ParamBag } from '../openapi';
import { one } from '../routes';
import { newSid } from '../sids';

export const SERVERLESS_HOST = 'serverless.twilio.com';
export const UPLOAD_HOST = 'serverless-upload.twilio.com';
export const STANDIN_HOSTS = [SERVERLESS_HOST, UPLOAD_HOST];

export interface StandInRequest {
  method: string;
  host: string;
  /** Path and query, e.g. `/v1/Services?PageSize=50`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface StandInReply {
  status: number;
  body?: unknown;
}

export interface Upload {
  kind: 'function' | 'asset';
  /** The Function (ZH) or Asset (ZH) the version belongs to, and its friendly name. */
  resourceSid: string;
  name: string;
  versionSid: string;
  path: string;
  visibility: string;
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface Build {
  sid: string;
  serviceSid: string;
  functionVersions: string[];
  assetVersions: string[];
  dependencies: Array<{ name: string; version: string }>;
  runtime: string | undefined;
  statusPolls: number;
  dateCreated: string;
}

interface Service {
  sid: string;
  uniqueName: string;
  friendlyName: string;
  includeCredentials: boolean;
  uiEditable: boolean;
  domainBase: string;
  dateCreated: string;
}

interface Environment {
  sid: string;
  serviceSid: string;
  uniqueName: string;
  domainSuffix: string | null;
  buildSid: string | null;
  dateCreated: string;
  dateUpdated: string;
}

interface Named {
  sid: string;
  serviceSid: string;
  friendlyName: string;
  dateCreated: string;
}

/** A request below `/v1/Services/{service}/{collection}`: the path's parts after the collection. */
interface ResourceRequest {
  method: string;
  pathname: string;
  query: ParamBag;
  form: ParamBag;
  service: Service;
  id?: string;
  sub?: string;
  subId?: string;
}

export interface Variable {
  sid: string;
  serviceSid: string;
  environmentSid: string;
  key: string;
  value: string;
  dateCreated: string;
  dateUpdated: string;
}

export interface Deployment {
  sid: string;
  serviceSid: string;
  environmentSid: string;
  buildSid: string;
  dateCreated: string;
}

/** An environment's deployed build, as the platform would run it (see deployedEnvironment). */
export interface DeployedEnvironment {
  domain: string;
  serviceSid: string;
  serviceName: string;
  environmentSid: string;
  buildSid: string;
  includeCredentials: boolean;
  functions: Upload[];
  assets: Upload[];
  dependencies: Array<{ name: string; version: string }>;
  runtime: string;
  variables: Record<string, string>;
}

export interface RecordedExchange {
  method: string;
  host: string;
  path: string;
  status: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_UPLOAD_BYTES = 30 * 1024 * 1024;

/**
 * Departures from the spec that twilio-run makes on every deploy and that Twilio accepts (deploys
 * with it succeed every day), so the stand-in answers them and lists them in `tolerated`.
 */
export const TOLERATED_DEVIATIONS: Array<{ problem: string; why: string }> = [
  {
    problem: 'CreateEnvironment: unknown form parameter "FriendlyName"',
    why: '@twilio-labs/serverless-api sends it on purpose ("this property currently doesn\'t exist but for the future lets set it")',
  },
];

function resourceNotFound(pathname: string): ApiError {
  return new ApiError(404, 20404, `The requested resource ${pathname} was not found`);
}

/** A service's resources, from one of the stand-in's maps. */
function ofService<T extends { serviceSid: string }>(resources: Map<string, T>, service: Service): T[] {
  return [...resources.values()].filter((r) => r.serviceSid === service.sid);
}

/** The resource if it is the service's, else Twilio's 404 for the path. */
function ofServiceOr404<T extends { serviceSid: string }>(
  resource: T | undefined,
  service: Service,
  pathname: string,
): T {
  if (!resource || resource.serviceSid !== service.sid) throw resourceNotFound(pathname);
  return resource;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function many(bag: ParamBag, name: string): string[] {
  const value = bag[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Splits a multipart/form-data body into its parts (enough for form-data's output). */
export function parseMultipart(
  body: Buffer,
  contentType: string,
): Array<{ name: string; filename?: string; contentType?: string; data: Buffer }> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw new ApiError(400, 20001, 'multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: Array<{ name: string; filename?: string; contentType?: string; data: Buffer }> = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const headerStart = start + delimiter.length;
    if (body.subarray(headerStart, headerStart + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, headerStart);
    if (next === -1) break;
    const part = body.subarray(headerStart + 2, next - 2); // skip CRLF after delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    const headerText = part.subarray(0, split).toString('utf8');
    const data = part.subarray(split + 4);
    const disposition = /content-disposition:[^\r\n]*/i.exec(headerText)?.[0] ?? '';
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(headerText)?.[1]?.trim();
    parts.push({ name, filename, contentType: type, data });
    start = next;
  }
  return parts;
}

export class ServerlessStandIn {
  readonly services = new Map<string, Service>();
  readonly environments = new Map<string, Environment>();
  readonly functions = new Map<string, Named>();
  readonly assets = new Map<string, Named>();
  readonly uploads: Upload[] = [];
  readonly builds = new Map<string, Build>();
  readonly variables = new Map<string, Variable>();
  readonly deployments: Deployment[] = [];
  readonly exchanges: RecordedExchange[] = [];
  /** Every way a request or reply departed from Twilio's spec (should stay empty). */
  readonly problems: string[] = [];
  /** Spec departures answered anyway (see TOLERATED_DEVIATIONS). */
  readonly tolerated: string[] = [];

  /**
   * The account the stand-in answers for. `authToken` is the account's token: a service created
   * with IncludeCredentials gets ACCOUNT_SID and AUTH_TOKEN in its functions' environment, and
   * protected functions are checked against it (runtime-domain.ts).
   */
  constructor(
    readonly accountSid: string,
    readonly authToken = '',
  ) {}

  /** Answers one HTTP exchange for either host. Never throws. */
  async handle(request: StandInRequest): Promise<StandInReply> {
    const [pathname, search = ''] = request.url.split('?');
    let reply: StandInReply;
    try {
      if (request.host === UPLOAD_HOST) {
        reply = this.upload(request, pathname);
      } else if (request.host === SERVERLESS_HOST) {
        reply = this.api(request, pathname, search);
      } else {
        throw new ApiError(404, 20404, `The rehearsal does not answer for ${request.host}`);
      }
    } catch (err) {
      reply = err instanceof ApiError ? this.error(err) : this.error(new ApiError(500, 20500, String(err)));
    }
    this.exchanges.push({ method: request.method, host: request.host, path: pathname, status: reply.status });
    return reply;
  }

  /** The domain of the environment a deployment went to last, e.g. `studio-async-1234-dev.twil.io`. */
  lastDeployedDomain(): string | undefined {
    const last = this.deployments[this.deployments.length - 1];
    return last
      ? domainName(
          this.services.get(last.serviceSid) as Service,
          this.environments.get(last.environmentSid) as Environment,
        )
      : undefined;
  }

  /**
   * What an environment serves now: its deployed build's function and asset versions, the build's
   * dependencies and runtime, the environment's Variables. By domain; the last deployment's
   * environment when none is given. Undefined when nothing was deployed there.
   */
  deployedEnvironment(domain?: string): DeployedEnvironment | undefined {
    const environment = domain
      ? [...this.environments.values()].find(
          (e) => domainName(this.services.get(e.serviceSid) as Service, e) === domain,
        )
      : this.environments.get(this.deployments[this.deployments.length - 1]?.environmentSid ?? '');
    const build = environment?.buildSid ? this.builds.get(environment.buildSid) : undefined;
    if (!environment || !build) return undefined;
    const service = this.services.get(environment.serviceSid) as Service;
    const version = (sid: string) => this.uploads.find((u) => u.versionSid === sid) as Upload;
    return {
      domain: domainName(service, environment),
      serviceSid: service.sid,
      serviceName: service.uniqueName,
      environmentSid: environment.sid,
      buildSid: build.sid,
      includeCredentials: service.includeCredentials,
      functions: build.functionVersions.map(version),
      assets: build.assetVersions.map(version),
      dependencies: build.dependencies,
      runtime: build.runtime ?? 'node22',
      variables: Object.fromEntries(
        [...this.variables.values()].filter((v) => v.environmentSid === environment.sid).map((v) => [v.key, v.value]),
      ),
    };
  }

  private error(err: ApiError): StandInReply {
    return {
      status: err.status,
      body: {
        code: err.code,
        message: err.message,
        more_info: `https://www.twilio.com/docs/errors/${err.code}`,
        status: err.status,
      },
    };
  }

  // ---- serverless.twilio.com -----------------------------------------------------------------

  private api(request: StandInRequest, pathname: string, search: string): StandInReply {
    const method = request.method.toUpperCase();
    const query = paramBagFromSearch(search ? `?${search}` : '');
    const type = contentTypeOf(request);
    const form =
      method === 'POST' && type === 'application/x-www-form-urlencoded'
        ? paramBagFromSearch(`?${request.body.toString('utf8')}`)
        : {};
    const url = `https://${SERVERLESS_HOST}${pathname}`;
    const requestProblems: string[] = [];
    for (const problem of defaultChecker().checkRequest({ method, path: url, query, form, headers: request.headers })) {
      if (TOLERATED_DEVIATIONS.some((d) => d.problem === problem))
        this.tolerated.push(`${method} ${pathname}: ${problem}`);
      else requestProblems.push(problem);
    }
    if (requestProblems.length > 0) {
      this.problems.push(...requestProblems.map((p) => `${method} ${pathname}: ${p}`));
      throw new ApiError(400, 20001, requestProblems.join('; '));
    }
    const reply = this.route(method, pathname, query, form);
    const replyProblems = defaultChecker().checkResponse({ method, path: url, status: reply.status, body: reply.body });
    this.problems.push(...replyProblems.map((p) => `reply to ${method} ${pathname}: ${p}`));
    return reply;
  }

  private route(method: string, pathname: string, query: ParamBag, form: ParamBag): StandInReply {
    const parts = pathname.split('/').filter(Boolean); // v1 Services ...
    const [, , serviceSid, collection, id, sub, subId] = parts;
    if (parts[1] !== 'Services') throw new ApiError(404, 20404, `No resource at ${pathname}`);
    if (!serviceSid) {
      if (method === 'GET')
        return this.list('services', { pathname, query }, [...this.services.values()], (s) => this.serviceJson(s));
      return { status: 201, body: this.serviceJson(this.createService(form)) };
    }
    const service =
      this.services.get(serviceSid) ?? [...this.services.values()].find((s) => s.uniqueName === serviceSid);
    if (!service) throw resourceNotFound(pathname);
    if (!collection) return { status: 200, body: this.serviceJson(service) };
    const reply = this.collectionRoute(collection, { method, pathname, query, form, service, id, sub, subId });
    if (reply) return reply;
    throw new ApiError(404, 20404, `The rehearsal does not serve ${method} ${pathname}`);
  }

  private collectionRoute(collection: string, request: ResourceRequest): StandInReply | undefined {
    switch (collection) {
      case 'Environments':
        return this.environmentsRoute(request);
      case 'Functions':
      case 'Assets':
        return this.namedRoute(collection, request);
      case 'Builds':
        return this.buildsRoute(request);
      default:
        return undefined;
    }
  }

  /** `/Environments[/{sid}[/Variables[/{sid}] | /Deployments]]`; undefined for what it does not serve. */
  private environmentsRoute(request: ResourceRequest): StandInReply | undefined {
    const { method, pathname, form, service, id, sub, subId } = request;
    if (!id) {
      if (method === 'GET')
        return this.list('environments', request, ofService(this.environments, service), (e) =>
          this.environmentJson(service, e),
        );
      return { status: 201, body: this.environmentJson(service, this.createEnvironment(service, form)) };
    }
    const environment = ofServiceOr404(this.environments.get(id), service, pathname);
    if (!sub) return { status: 200, body: this.environmentJson(service, environment) };
    if (sub === 'Variables') return this.variablesRoute(request, environment, subId);
    if (sub === 'Deployments' && !subId) {
      if (method === 'GET') {
        const list = this.deployments.filter((d) => d.environmentSid === environment.sid);
        return this.list('deployments', request, list, (d) => this.deploymentJson(d));
      }
      return { status: 201, body: this.deploymentJson(this.deploy(environment, one(form, 'BuildSid') ?? '')) };
    }
    return undefined;
  }

  /** `/Functions` and `/Assets`: list and create (their versions go to the upload host). */
  private namedRoute(collection: 'Functions' | 'Assets', request: ResourceRequest): StandInReply | undefined {
    const { method, form, service, id } = request;
    if (id) return undefined;
    const store = collection === 'Functions' ? this.functions : this.assets;
    if (method === 'GET')
      return this.list(collection === 'Functions' ? 'functions' : 'assets', request, ofService(store, service), (f) =>
        this.namedJson(collection, f),
      );
    const created: Named = {
      sid: newSid('ZH'),
      serviceSid: service.sid,
      friendlyName: one(form, 'FriendlyName') ?? '',
      dateCreated: now(),
    };
    store.set(created.sid, created);
    return { status: 201, body: this.namedJson(collection, created) };
  }

  /** `/Builds[/{sid}[/Status]]`; undefined for what it does not serve. */
  private buildsRoute(request: ResourceRequest): StandInReply | undefined {
    const { method, pathname, form, service, id, sub } = request;
    if (!id) {
      if (method === 'GET')
        return this.list('builds', request, ofService(this.builds, service), (b) => this.buildJson(b));
      return { status: 201, body: this.buildJson(this.createBuild(service, form)) };
    }
    const build = ofServiceOr404(this.builds.get(id), service, pathname);
    if (!sub) return { status: 200, body: this.buildJson(build) };
    if (sub !== 'Status') return undefined;
    build.statusPolls += 1;
    return {
      status: 200,
      body: {
        sid: build.sid,
        account_sid: this.accountSid,
        service_sid: build.serviceSid,
        status: this.buildStatus(build),
        url: `https://${SERVERLESS_HOST}/v1/Services/${build.serviceSid}/Builds/${build.sid}/Status`,
      },
    };
  }

  private createService(form: ParamBag): Service {
    const uniqueName = one(form, 'UniqueName') ?? '';
    if ([...this.services.values()].some((s) => s.uniqueName === uniqueName)) {
      throw new ApiError(409, 54301, `Service with UniqueName ${uniqueName} already exists`);
    }
    const service: Service = {
      sid: newSid('ZS'),
      uniqueName,
      friendlyName: one(form, 'FriendlyName') ?? uniqueName,
      includeCredentials: one(form, 'IncludeCredentials') !== 'false',
      uiEditable: one(form, 'UiEditable') === 'true',
      domainBase: `${uniqueName}-${randomInt(1000, 10000)}`,
      dateCreated: now(),
    };
    this.services.set(service.sid, service);
    return service;
  }

  private createEnvironment(service: Service, form: ParamBag): Environment {
    const suffix = one(form, 'DomainSuffix');
    const environment: Environment = {
      sid: newSid('ZE'),
      serviceSid: service.sid,
      uniqueName: one(form, 'UniqueName') ?? '',
      domainSuffix: suffix === undefined || suffix === '' ? null : suffix,
      buildSid: null,
      dateCreated: now(),
      dateUpdated: now(),
    };
    this.environments.set(environment.sid, environment);
    return environment;
  }

  private createBuild(service: Service, form: ParamBag): Build {
    const functionVersions = many(form, 'FunctionVersions');
    const assetVersions = many(form, 'AssetVersions');
    if (functionVersions.length + assetVersions.length === 0) {
      throw new ApiError(400, 20001, 'At least one Function Version or Asset Version is required for Build.');
    }
    for (const sid of [...functionVersions, ...assetVersions]) {
      if (!this.uploads.some((u) => u.versionSid === sid))
        throw new ApiError(400, 20001, `Version ${sid} was not uploaded to this service`);
    }
    const dependencies = parseDependencies(one(form, 'Dependencies'));
    const build: Build = {
      sid: newSid('ZB'),
      serviceSid: service.sid,
      functionVersions,
      assetVersions,
      dependencies,
      runtime: one(form, 'Runtime'),
      statusPolls: 0,
      dateCreated: now(),
    };
    this.builds.set(build.sid, build);
    return build;
  }

  /** `building` on the first status poll, then `completed` (twilio-run polls once a second). */
  private buildStatus(build: Build): 'building' | 'completed' {
    return build.statusPolls <= 1 ? 'building' : 'completed';
  }

  private deploy(environment: Environment, buildSid: string): Deployment {
    const build = this.builds.get(buildSid);
    if (!build || build.serviceSid !== environment.serviceSid)
      throw new ApiError(404, 20404, `Build ${buildSid} not found`);
    if (this.buildStatus(build) !== 'completed') throw new ApiError(400, 20001, `Build ${buildSid} is not completed`);
    environment.buildSid = build.sid;
    environment.dateUpdated = now();
    const deployment: Deployment = {
      sid: newSid('ZD'),
      serviceSid: environment.serviceSid,
      environmentSid: environment.sid,
      buildSid: build.sid,
      dateCreated: now(),
    };
    this.deployments.push(deployment);
    return deployment;
  }

  private variablesRoute(
    request: ResourceRequest,
    environment: Environment,
    variableSid: string | undefined,
  ): StandInReply {
    const { method, pathname, form } = request;
    const ofEnvironment = () => [...this.variables.values()].filter((v) => v.environmentSid === environment.sid);
    if (!variableSid) {
      if (method === 'GET') return this.list('variables', request, ofEnvironment(), (v) => this.variableJson(v));
      const key = one(form, 'Key') ?? '';
      if (ofEnvironment().some((v) => v.key === key)) throw new ApiError(409, 20001, `Variable ${key} already exists`);
      const variable: Variable = {
        sid: newSid('ZV'),
        serviceSid: environment.serviceSid,
        environmentSid: environment.sid,
        key,
        value: one(form, 'Value') ?? '',
        dateCreated: now(),
        dateUpdated: now(),
      };
      this.variables.set(variable.sid, variable);
      return { status: 201, body: this.variableJson(variable) };
    }
    const variable = this.variables.get(variableSid);
    if (!variable || variable.environmentSid !== environment.sid) throw resourceNotFound(pathname);
    if (method === 'DELETE') {
      this.variables.delete(variable.sid);
      return { status: 204 };
    }
    if (method === 'POST') {
      variable.key = one(form, 'Key') ?? variable.key;
      variable.value = one(form, 'Value') ?? variable.value;
      variable.dateUpdated = now();
    }
    return { status: 200, body: this.variableJson(variable) };
  }

  // ---- serverless-upload.twilio.com ----------------------------------------------------------

  private upload(request: StandInRequest, pathname: string): StandInReply {
    const match = /^\/v1\/Services\/([^/]+)\/(Functions|Assets)\/([^/]+)\/Versions$/.exec(pathname);
    if (request.method.toUpperCase() !== 'POST' || !match)
      throw new ApiError(404, 20404, `The upload host does not serve ${request.method} ${pathname}`);
    const [, serviceSid, collection, resourceSid] = match;
    if (request.body.length > MAX_UPLOAD_BYTES) throw new ApiError(413, 20001, `upload over ${MAX_UPLOAD_BYTES} bytes`);
    const store = collection === 'Functions' ? this.functions : this.assets;
    const resource = store.get(resourceSid);
    if (!this.services.has(serviceSid) || !resource || resource.serviceSid !== serviceSid)
      throw resourceNotFound(pathname);
    const parts = parseMultipart(request.body, String(request.headers['content-type'] ?? ''));
    const field = (name: string) => parts.find((p) => p.name === name);
    const problems: string[] = [];
    const known = new Set(['Path', 'Visibility', 'Content']);
    for (const part of parts) if (!known.has(part.name)) problems.push(`unknown form parameter "${part.name}"`);
    const pathValue = field('Path')?.data.toString('utf8');
    const visibility = field('Visibility')?.data.toString('utf8');
    const content = field('Content');
    if (pathValue === undefined) problems.push('missing required form parameter "Path"');
    else if (pathValue.length > 255) problems.push(`Path is over 255 characters: ${pathValue.slice(0, 40)}...`);
    if (!visibility || !['public', 'protected', 'private'].includes(visibility))
      problems.push(`Visibility must be one of [public, private, protected]; got ${JSON.stringify(visibility)}`);
    if (!content || content.filename === undefined) problems.push('missing required file part "Content"');
    if (problems.length > 0) {
      this.problems.push(...problems.map((p) => `POST ${UPLOAD_HOST}${pathname}: ${p}`));
      throw new ApiError(400, 20001, problems.join('; '));
    }
    const kind = collection === 'Functions' ? 'function' : 'asset';
    const versionSid = newSid('ZN');
    const normalisedPath = (pathValue as string).startsWith('/') ? (pathValue as string) : `/${pathValue}`;
    this.uploads.push({
      kind,
      resourceSid,
      name: resource.friendlyName,
      versionSid,
      path: normalisedPath,
      visibility: visibility as string,
      filename: content?.filename ?? '',
      contentType: content?.contentType ?? '',
      content: content?.data ?? Buffer.alloc(0),
    });
    const base = `https://${SERVERLESS_HOST}/v1/Services/${serviceSid}/${collection}/${resourceSid}/Versions/${versionSid}`;
    const body: Record<string, unknown> = {
      sid: versionSid,
      account_sid: this.accountSid,
      service_sid: serviceSid,
      [kind === 'function' ? 'function_sid' : 'asset_sid']: resourceSid,
      path: normalisedPath,
      visibility,
      date_created: now(),
      url: base,
    };
    if (kind === 'function') body.links = { function_version_content: `${base}/Content` };
    // The spec has no upload operation: the reply must be the Version resource its GET returns.
    const replyProblems = defaultChecker().checkResponse({ method: 'GET', path: base, status: 200, body });
    this.problems.push(...replyProblems.map((p) => `reply to POST ${UPLOAD_HOST}${pathname}: ${p}`));
    return { status: 201, body };
  }

  // ---- JSON shapes ---------------------------------------------------------------------------

  /** One page holding every item, each rendered by `render` (no next page). */
  private list<T>(
    key: string,
    { pathname, query }: Pick<ResourceRequest, 'pathname' | 'query'>,
    all: T[],
    render: (item: T) => unknown,
  ): StandInReply {
    const items = all.map(render);
    const pageSize = Number(one(query, 'PageSize') ?? 50);
    const url = `https://${SERVERLESS_HOST}${pathname}?PageSize=${pageSize}&Page=0`;
    return {
      status: 200,
      body: {
        [key]: items,
        meta: {
          first_page_url: url,
          key,
          next_page_url: null,
          page: 0,
          page_size: pageSize,
          previous_page_url: null,
          url,
        },
      },
    };
  }

  private serviceJson(s: Service): unknown {
    const url = `https://${SERVERLESS_HOST}/v1/Services/${s.sid}`;
    return {
      sid: s.sid,
      account_sid: this.accountSid,
      friendly_name: s.friendlyName,
      unique_name: s.uniqueName,
      include_credentials: s.includeCredentials,
      ui_editable: s.uiEditable,
      domain_base: s.domainBase,
      date_created: s.dateCreated,
      date_updated: s.dateCreated,
      url,
      links: {
        environments: `${url}/Environments`,
        functions: `${url}/Functions`,
        assets: `${url}/Assets`,
        builds: `${url}/Builds`,
      },
    };
  }

  private environmentJson(service: Service, e: Environment): unknown {
    const url = `https://${SERVERLESS_HOST}/v1/Services/${e.serviceSid}/Environments/${e.sid}`;
    return {
      sid: e.sid,
      account_sid: this.accountSid,
      service_sid: e.serviceSid,
      build_sid: e.buildSid,
      unique_name: e.uniqueName,
      domain_suffix: e.domainSuffix,
      domain_name: domainName(service, e),
      date_created: e.dateCreated,
      date_updated: e.dateUpdated,
      url,
      links: { variables: `${url}/Variables`, deployments: `${url}/Deployments`, logs: `${url}/Logs` },
    };
  }

  private namedJson(collection: 'Functions' | 'Assets', f: Named): unknown {
    const url = `https://${SERVERLESS_HOST}/v1/Services/${f.serviceSid}/${collection}/${f.sid}`;
    return {
      sid: f.sid,
      account_sid: this.accountSid,
      service_sid: f.serviceSid,
      friendly_name: f.friendlyName,
      date_created: f.dateCreated,
      date_updated: f.dateCreated,
      url,
      links:
        collection === 'Functions' ? { function_versions: `${url}/Versions` } : { asset_versions: `${url}/Versions` },
    };
  }

  private versionJson(sid: string): unknown {
    const upload = this.uploads.find((u) => u.versionSid === sid) as Upload;
    const collection = upload.kind === 'function' ? 'Functions' : 'Assets';
    const service =
      this.functions.get(upload.resourceSid)?.serviceSid ?? this.assets.get(upload.resourceSid)?.serviceSid;
    return {
      sid,
      account_sid: this.accountSid,
      service_sid: service,
      [upload.kind === 'function' ? 'function_sid' : 'asset_sid']: upload.resourceSid,
      path: upload.path,
      visibility: upload.visibility,
      date_created: now(),
      url: `https://${SERVERLESS_HOST}/v1/Services/${service}/${collection}/${upload.resourceSid}/Versions/${sid}`,
    };
  }

  private buildJson(b: Build): unknown {
    const url = `https://${SERVERLESS_HOST}/v1/Services/${b.serviceSid}/Builds/${b.sid}`;
    return {
      sid: b.sid,
      account_sid: this.accountSid,
      service_sid: b.serviceSid,
      status: this.buildStatus(b),
      asset_versions: b.assetVersions.map((sid) => this.versionJson(sid)),
      function_versions: b.functionVersions.map((sid) => this.versionJson(sid)),
      dependencies: b.dependencies,
      runtime: b.runtime ?? 'node22',
      date_created: b.dateCreated,
      date_updated: b.dateCreated,
      url,
      links: { build_status: `${url}/Status` },
    };
  }

  private deploymentJson(d: Deployment): unknown {
    return {
      sid: d.sid,
      account_sid: this.accountSid,
      service_sid: d.serviceSid,
      environment_sid: d.environmentSid,
      build_sid: d.buildSid,
      date_created: d.dateCreated,
      date_updated: d.dateCreated,
      url: `https://${SERVERLESS_HOST}/v1/Services/${d.serviceSid}/Environments/${d.environmentSid}/Deployments/${d.sid}`,
    };
  }

  private variableJson(v: Variable): unknown {
    return {
      sid: v.sid,
      account_sid: this.accountSid,
      service_sid: v.serviceSid,
      environment_sid: v.environmentSid,
      key: v.key,
      value: v.value,
      date_created: v.dateCreated,
      date_updated: v.dateUpdated,
      url: `https://${SERVERLESS_HOST}/v1/Services/${v.serviceSid}/Environments/${v.environmentSid}/Variables/${v.sid}`,
    };
  }
}

function domainName(service: Service, environment: Environment): string {
  return `${service.domainBase}${environment.domainSuffix ? `-${environment.domainSuffix}` : ''}.twil.io`;
}

/**
 * The Build's `Dependencies` form value. @twilio-labs/serverless-api sends the JSON array wrapped
 * in an extra pair of double quotes (`"[{...}]"`); the API takes that, so the stand-in does too.
 */
export function parseDependencies(raw: string | undefined): Array<{ name: string; version: string }> {
  if (raw === undefined || raw === '') return [];
  const text = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(400, 20001, `Dependencies is not a JSON list: ${raw.slice(0, 80)}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((d) => typeof d?.name === 'string' && typeof d?.version === 'string')) {
    throw new ApiError(400, 20001, 'Dependencies must be a list of {name, version}');
  }
  return parsed as Array<{ name: string; version: string }>;
}
