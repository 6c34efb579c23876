/**
 * Studio v2 Flows with revisions: every create or update stores a new numbered revision, the flow
 * shows the latest one, and `Revisions/{n|LatestRevision|LatestPublished}` reads older ones.
 * An invalid definition is refused with HTTP 400 and the problems in `details.errors`, like Studio.
 */
import { checkFlowDefinition } from './flow-definition-check';
import { json } from './http-io';
import { metaPage } from './paging';
import type { ParamBag } from './openapi';
import { one, type RouteTable } from './routes';
import { newSid } from './sids';
import { isoSeconds, type Clock } from './time';
import { ErrorCode, TwilioApiError } from './twilio-errors';

export interface FlowRevision {
  revision: number;
  friendlyName: string;
  definition: unknown;
  status: 'draft' | 'published';
  commitMessage: string | null;
  dateCreated: number;
}

export interface Flow {
  sid: string;
  accountSid: string;
  dateCreated: number;
  dateUpdated: number | null;
  revisions: FlowRevision[];
}

const STUDIO_BASE = 'https://studio.twilio.com/v2';

function latest(flow: Flow): FlowRevision {
  return flow.revisions[flow.revisions.length - 1];
}

export class FlowStore {
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly clock: Clock) {}

  create(accountSid: string, input: Omit<FlowRevision, 'revision' | 'dateCreated'>): Flow {
    const now = this.clock();
    const flow: Flow = { sid: newSid('FW'), accountSid, dateCreated: now, dateUpdated: null, revisions: [] };
    flow.revisions.push({ ...input, revision: 1, dateCreated: now });
    this.flows.set(flow.sid, flow);
    return flow;
  }

  update(
    sid: string,
    change: Partial<Omit<FlowRevision, 'revision' | 'dateCreated'>> & { status: FlowRevision['status'] },
  ): Flow {
    const flow = this.get(sid);
    const now = this.clock();
    const previous = latest(flow);
    flow.revisions.push({
      friendlyName: change.friendlyName ?? previous.friendlyName,
      definition: change.definition ?? previous.definition,
      status: change.status,
      commitMessage: change.commitMessage ?? null,
      revision: previous.revision + 1,
      dateCreated: now,
    });
    flow.dateUpdated = now;
    return flow;
  }

  /**
   * Makes a flow the flow runner plays known under its own SID (control API), so the REST API
   * can start executions of it; a flow that exists already is left as it is.
   */
  adopt(sid: string, accountSid: string, definition: unknown): Flow {
    const existing = this.flows.get(sid);
    if (existing) return existing;
    const now = this.clock();
    const flow: Flow = { sid, accountSid, dateCreated: now, dateUpdated: null, revisions: [] };
    flow.revisions.push({
      friendlyName: `flow run by the flow runner (${sid})`,
      definition: definition ?? {},
      status: 'published',
      commitMessage: null,
      revision: 1,
      dateCreated: now,
    });
    this.flows.set(sid, flow);
    return flow;
  }

  get(sid: string): Flow {
    const flow = this.flows.get(sid);
    if (!flow) throw new TwilioApiError(404, ErrorCode.notFound, `The requested resource /Flows/${sid} was not found`);
    return flow;
  }

  remove(sid: string): void {
    this.get(sid);
    this.flows.delete(sid);
  }

  list(): Flow[] {
    return [...this.flows.values()];
  }

  clear(): void {
    this.flows.clear();
  }
}

// ---- request parsing --------------------------------------------------------------------------

function parseDefinition(raw: string): unknown {
  let definition: unknown;
  try {
    definition = JSON.parse(raw);
  } catch {
    throw new TwilioApiError(400, ErrorCode.invalidParameter, 'Invalid Flow definition: not valid JSON');
  }
  const errors = checkFlowDefinition(definition);
  if (errors.length > 0) {
    throw new TwilioApiError(400, ErrorCode.invalidParameter, 'Invalid Flow definition', { errors });
  }
  return definition;
}

function parseStatus(form: ParamBag): FlowRevision['status'] {
  // The spec check has already limited Status to draft|published.
  return one(form, 'Status') === 'published' ? 'published' : 'draft';
}

// ---- rendering --------------------------------------------------------------------------------

function renderFlow(flow: Flow): Record<string, unknown> {
  const current = latest(flow);
  const url = `${STUDIO_BASE}/Flows/${flow.sid}`;
  return {
    sid: flow.sid,
    account_sid: flow.accountSid,
    friendly_name: current.friendlyName,
    definition: current.definition,
    status: current.status,
    revision: current.revision,
    commit_message: current.commitMessage,
    valid: true,
    errors: [],
    warnings: [],
    date_created: isoSeconds(flow.dateCreated),
    date_updated: flow.dateUpdated === null ? null : isoSeconds(flow.dateUpdated),
    webhook_url: `https://webhooks.twilio.com/v1/Accounts/${flow.accountSid}/Flows/${flow.sid}`,
    url,
    links: { test_users: `${url}/TestUsers`, revisions: `${url}/Revisions`, executions: `${url}/Executions` },
  };
}

function renderRevision(flow: Flow, revision: FlowRevision): Record<string, unknown> {
  return {
    sid: flow.sid,
    account_sid: flow.accountSid,
    friendly_name: revision.friendlyName,
    definition: revision.definition,
    status: revision.status,
    revision: revision.revision,
    commit_message: revision.commitMessage,
    valid: true,
    errors: [],
    date_created: isoSeconds(flow.dateCreated),
    date_updated: revision.revision === 1 ? null : isoSeconds(revision.dateCreated),
    url: `${STUDIO_BASE}/Flows/${flow.sid}/Revisions/${revision.revision}`,
  };
}

function findRevision(flow: Flow, name: string): FlowRevision {
  let found: FlowRevision | undefined;
  if (name === 'LatestRevision') found = latest(flow);
  else if (name === 'LatestPublished') found = [...flow.revisions].reverse().find((r) => r.status === 'published');
  else if (/^\d+$/.test(name)) found = flow.revisions.find((r) => r.revision === Number(name));
  if (!found)
    throw new TwilioApiError(
      404,
      ErrorCode.notFound,
      `The requested resource /Flows/${flow.sid}/Revisions/${name} was not found`,
    );
  return found;
}

// ---- handlers ---------------------------------------------------------------------------------

/** Flows: create, update, fetch, delete, list, validate. */
function flowRoutes(store: FlowStore): RouteTable {
  return {
    'studio:CreateFlow': {
      name: 'studio.flows.create',
      handle: ({ form, accountSid }) => {
        const flow = store.create(accountSid, {
          friendlyName: one(form, 'FriendlyName') ?? '',
          status: parseStatus(form),
          definition: parseDefinition(one(form, 'Definition') ?? ''),
          commitMessage: one(form, 'CommitMessage') ?? null,
        });
        return json(201, renderFlow(flow));
      },
    },
    'studio:UpdateFlow': {
      name: 'studio.flows.update',
      handle: ({ params, form }) => {
        const definition = one(form, 'Definition');
        const flow = store.update(params.Sid, {
          status: parseStatus(form),
          friendlyName: one(form, 'FriendlyName'),
          definition: definition === undefined ? undefined : parseDefinition(definition),
          commitMessage: one(form, 'CommitMessage'),
        });
        return json(200, renderFlow(flow));
      },
    },
    'studio:FetchFlow': {
      name: 'studio.flows.fetch',
      handle: ({ params }) => json(200, renderFlow(store.get(params.Sid))),
    },
    'studio:DeleteFlow': {
      name: 'studio.flows.remove',
      handle: ({ params }) => {
        store.remove(params.Sid);
        return json(204);
      },
    },
    'studio:ListFlow': {
      name: 'studio.flows.list',
      handle: ({ query }) =>
        json(
          200,
          metaPage({ key: 'flows', all: store.list(), render: renderFlow, base: `${STUDIO_BASE}/Flows`, query }),
        ),
    },
    'studio:UpdateFlowValidate': {
      name: 'studio.flows.validate',
      handle: ({ form }) => {
        parseDefinition(one(form, 'Definition') ?? '');
        return json(200, { valid: true });
      },
    },
  };
}

/** A flow's revisions: list (newest first) and fetch (by number, LatestRevision or LatestPublished). */
function flowRevisionRoutes(store: FlowStore): RouteTable {
  return {
    'studio:ListFlowRevision': {
      name: 'studio.flowRevisions.list',
      handle: ({ params, query }) => {
        const flow = store.get(params.Sid);
        const newestFirst = [...flow.revisions].reverse();
        return json(
          200,
          metaPage({
            key: 'revisions',
            all: newestFirst,
            render: (r) => renderRevision(flow, r),
            sidOf: (r) => `${flow.sid}${r.revision}`,
            base: `${STUDIO_BASE}/Flows/${flow.sid}/Revisions`,
            query,
          }),
        );
      },
    },
    'studio:FetchFlowRevision': {
      name: 'studio.flowRevisions.fetch',
      handle: ({ params }) => {
        const flow = store.get(params.Sid);
        return json(200, renderRevision(flow, findRevision(flow, params.Revision)));
      },
    },
  };
}

export function studioFlowRoutes(store: FlowStore): RouteTable {
  return { ...flowRoutes(store), ...flowRevisionRoutes(store) };
}
