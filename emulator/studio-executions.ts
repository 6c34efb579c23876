/**
 * Studio v2 Executions: created through the REST API (`incomingRequest`, `Parameters` as
 * `flow.data`) or registered by the flow runner for the inbound message or call it plays. One
 * execution per contact may be active in a flow at a time (Execution resource docs: "Only one
 * Execution can be active at a time for the same To/From combination"); what a create meets
 * when the contact has one is the behaviour switch `executionCreateEndsActiveExecution`
 * (refused with 409 / 20409, or the active one ended and the new one started).
 *
 * The runner picks up REST-created executions through the control API (claim, then end when its
 * flow ends); nobody else runs them, so an unclaimed one stays active, as a stuck one does on Twilio.
 */
import { json, type Reply } from './http-io';
import { jsonObjectParameter } from './json-values';
import { metaPage } from './paging';
import type { ParamBag } from './openapi';
import { one, type HandlerInput, type RouteTable } from './routes';
import { newSid } from './sids';
import type { FlowStore } from './studio-flows';
import { isoSeconds, type Clock } from './time';
import type { BehaviourSwitches } from './twilio-behaviour';
import { ErrorCode, TwilioApiError } from './twilio-errors';

export type ExecutionStartedBy = 'rest' | 'inbound';
/** Who ended it: the REST API (Status=ended), Studio replacing it for a new create, or the runner (its flow ended). */
export type ExecutionEndedBy = 'rest' | 'replaced' | 'flow-ended';

export interface StudioExecution {
  sid: string;
  accountSid: string;
  flowSid: string;
  /** `contact.channel.address`: the API's To, or who called or texted. */
  contact: string;
  /** `flow.channel.address`: the API's From, or the number called or texted. */
  flowAddress: string;
  status: 'active' | 'ended';
  startedBy: ExecutionStartedBy;
  /** The trigger event: `incomingRequest`, `incomingMessage`, `incomingCall`, ... */
  trigger: string;
  /** `flow.data` (a REST execution's Parameters). */
  data: Record<string, unknown>;
  /** A runner took it to run (REST-created only). */
  claimed: boolean;
  endedBy?: ExecutionEndedBy;
  dateCreated: number;
  dateUpdated: number;
}

export interface InboundExecution {
  flowSid: string;
  accountSid: string;
  contact: string;
  flowAddress: string;
  trigger: string;
  executionSid?: string;
  /** A call into a flow with `allow_concurrent_calls`: not held to one active execution per contact. */
  concurrent?: boolean;
  /** The flow's definition, so a flow the runner plays exists for the REST API (its SID kept). */
  definition?: unknown;
}

/** Errors of the control API (not Twilio's). */
export class ExecutionControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Twilio's generic conflict code; what Studio answers here is not documented (TWILIO-DIFFERENCES.md, S18). */
export const CONTACT_ACTIVE_CODE = 20409;
const STUDIO_BASE = 'https://studio.twilio.com/v2';

interface Waiter {
  matches(execution: StudioExecution): boolean;
  wake(): void;
}

export class ExecutionStore {
  private readonly executions = new Map<string, StudioExecution>();
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly clock: Clock,
    private readonly flows: FlowStore,
    private readonly switches: () => BehaviourSwitches,
  ) {}

  private active(flowSid: string, contact: string, flowAddress: string): StudioExecution | undefined {
    return [...this.executions.values()].find(
      (e) => e.status === 'active' && e.flowSid === flowSid && e.contact === contact && e.flowAddress === flowAddress,
    );
  }

  private add(execution: StudioExecution): StudioExecution {
    this.executions.set(execution.sid, execution);
    for (const waiter of [...this.waiters]) if (waiter.matches(execution)) waiter.wake();
    return execution;
  }

  /** REST create: the one-active rule decides whether the contact's active execution ends or the create is refused. */
  createFromRest(
    accountSid: string,
    flowSid: string,
    to: string,
    from: string,
    data: Record<string, unknown>,
  ): StudioExecution {
    this.flows.get(flowSid); // 404 for a flow that does not exist
    const now = this.clock();
    const busy = this.active(flowSid, to, from);
    if (busy) {
      if (!this.switches().executionCreateEndsActiveExecution) {
        throw new TwilioApiError(
          409,
          CONTACT_ACTIVE_CODE,
          `Execution ${busy.sid} is already active for this contact (To ${to}, From ${from}); only one Execution can be active at a time`,
        );
      }
      this.end(busy.sid, 'replaced');
    }
    return this.add({
      sid: newSid('FN'),
      accountSid,
      flowSid,
      contact: to,
      flowAddress: from,
      status: 'active',
      startedBy: 'rest',
      trigger: 'incomingRequest',
      data,
      claimed: false,
      dateCreated: now,
      dateUpdated: now,
    });
  }

  /** The runner's inbound message or call starts an execution (a stuck active one blocks it). */
  registerInbound(request: InboundExecution): StudioExecution {
    this.flows.adopt(request.flowSid, request.accountSid, request.definition);
    const busy = request.concurrent ? undefined : this.active(request.flowSid, request.contact, request.flowAddress);
    if (busy)
      throw new ExecutionControlError(
        409,
        `execution ${busy.sid} is already active for ${request.contact} in flow ${request.flowSid}: Studio starts no new one`,
        { activeExecutionSid: busy.sid },
      );
    const sid = request.executionSid ?? newSid('FN');
    if (this.executions.has(sid)) throw new ExecutionControlError(409, `execution ${sid} exists`);
    const now = this.clock();
    return this.add({
      sid,
      accountSid: request.accountSid,
      flowSid: request.flowSid,
      contact: request.contact,
      flowAddress: request.flowAddress,
      status: 'active',
      startedBy: 'inbound',
      trigger: request.trigger,
      data: {},
      claimed: true,
      dateCreated: now,
      dateUpdated: now,
    });
  }

  get(sid: string): StudioExecution | undefined {
    return this.executions.get(sid);
  }

  /** An execution of this flow, or Twilio's 404. */
  inFlow(flowSid: string, sid: string): StudioExecution {
    const execution = this.executions.get(sid);
    if (!execution || execution.flowSid !== flowSid)
      throw new TwilioApiError(
        404,
        ErrorCode.notFound,
        `The requested resource /Flows/${flowSid}/Executions/${sid} was not found`,
      );
    return execution;
  }

  /** Newest first, like Twilio's list. */
  list(flowSid: string, from?: number, to?: number): StudioExecution[] {
    this.flows.get(flowSid);
    return [...this.executions.values()]
      .filter(
        (e) =>
          e.flowSid === flowSid &&
          (from === undefined || e.dateCreated >= from) &&
          (to === undefined || e.dateCreated < to),
      )
      .sort((a, b) => b.dateCreated - a.dateCreated);
  }

  end(sid: string, by: ExecutionEndedBy): StudioExecution {
    const execution = this.executions.get(sid);
    if (!execution) throw new ExecutionControlError(404, `no execution ${sid}`);
    if (execution.status === 'active') {
      execution.status = 'ended';
      execution.endedBy = by;
      execution.dateUpdated = this.clock();
    }
    return execution;
  }

  /** The runner takes a REST-created execution to run; each is taken once. */
  claim(sid: string): StudioExecution {
    const execution = this.executions.get(sid);
    if (!execution) throw new ExecutionControlError(404, `no execution ${sid}`);
    if (execution.startedBy !== 'rest')
      throw new ExecutionControlError(
        409,
        `execution ${sid} was started by an inbound ${execution.trigger}, not by the REST API`,
      );
    if (execution.claimed) throw new ExecutionControlError(409, `execution ${sid} is already claimed`);
    execution.claimed = true;
    return execution;
  }

  /** REST-created executions nobody has claimed, matching the filter; waits up to `timeoutMs` for one. */
  async unclaimed(
    filter: { flowSid?: string; contact?: string },
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<StudioExecution[]> {
    const matches = (e: StudioExecution) =>
      e.startedBy === 'rest' &&
      !e.claimed &&
      e.status === 'active' &&
      (filter.flowSid === undefined || e.flowSid === filter.flowSid) &&
      (filter.contact === undefined || e.contact === filter.contact);
    const found = () => [...this.executions.values()].filter(matches).sort((a, b) => a.dateCreated - b.dateCreated);
    if (found().length > 0 || timeoutMs <= 0) return found();
    await new Promise<void>((resolve) => {
      const waiter: Waiter = {
        matches,
        wake: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', waiter.wake);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      signal.addEventListener('abort', waiter.wake, { once: true });
      this.waiters.add(waiter);
    });
    return found();
  }

  all(): StudioExecution[] {
    return [...this.executions.values()];
  }

  clear(): void {
    this.executions.clear();
    for (const waiter of [...this.waiters]) waiter.wake();
  }
}

// ---- rendering --------------------------------------------------------------------------------

/**
 * The execution's context as the emulator keeps it: what the flow's Liquid sees of the trigger,
 * `flow` (with `data`) and `contact`. Twilio documents the resource, not its layout; this is the
 * plain reading of the variables Studio names.
 */
const TRIGGER_KEYS: Record<string, string> = {
  incomingMessage: 'message',
  incomingCall: 'call',
  incomingConversationMessage: 'conversation',
  incomingParent: 'parent',
};

export function executionContext(e: StudioExecution): Record<string, unknown> {
  const trigger =
    e.trigger === 'incomingRequest'
      ? { request: { To: e.contact, From: e.flowAddress, parameters: e.data } }
      : { [TRIGGER_KEYS[e.trigger] ?? e.trigger]: { From: e.contact, To: e.flowAddress } };
  return {
    trigger,
    flow: { sid: e.sid, flow_sid: e.flowSid, data: e.data, channel: { address: e.flowAddress }, variables: {} },
    contact: { channel: { address: e.contact } },
    widgets: {},
  };
}

function renderExecution(e: StudioExecution): Record<string, unknown> {
  const url = `${STUDIO_BASE}/Flows/${e.flowSid}/Executions/${e.sid}`;
  return {
    sid: e.sid,
    account_sid: e.accountSid,
    flow_sid: e.flowSid,
    contact_channel_address: e.contact,
    context: executionContext(e),
    status: e.status,
    date_created: isoSeconds(e.dateCreated),
    date_updated: isoSeconds(e.dateUpdated),
    url,
    links: { steps: `${url}/Steps`, execution_context: `${url}/Context` },
  };
}

function renderContext(e: StudioExecution): Record<string, unknown> {
  return {
    account_sid: e.accountSid,
    context: executionContext(e),
    flow_sid: e.flowSid,
    execution_sid: e.sid,
    url: `${STUDIO_BASE}/Flows/${e.flowSid}/Executions/${e.sid}/Context`,
  };
}

/** The control API's view of an execution (the runner's). */
export function executionSummary(e: StudioExecution): Record<string, unknown> {
  return {
    executionSid: e.sid,
    flowSid: e.flowSid,
    contact: e.contact,
    flowAddress: e.flowAddress,
    status: e.status,
    startedBy: e.startedBy,
    trigger: e.trigger,
    data: e.data,
    claimed: e.claimed,
    ...(e.endedBy ? { endedBy: e.endedBy } : {}),
    dateCreated: new Date(e.dateCreated).toISOString(),
  };
}

// ---- request parsing --------------------------------------------------------------------------

/** `Parameters`: a JSON object given as a string (the API's note: "must explicitly be passed as a string"). */
function parseParameters(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw === '') return {};
  return jsonObjectParameter(raw, ErrorCode.invalidParameter, {
    notJson: 'Parameters must be a JSON object given as a string',
    notObject: 'Parameters must be a JSON object',
  });
}

function dateFilter(query: ParamBag, name: string): number | undefined {
  const raw = one(query, name);
  if (raw === undefined) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at))
    throw new TwilioApiError(400, ErrorCode.invalidParameter, `${name} must be an ISO 8601 date-time`);
  return at;
}

// ---- handlers ---------------------------------------------------------------------------------

/** The flow's executions created in the `DateCreatedFrom`/`DateCreatedTo` window, a page of them. */
function listExecutions(store: ExecutionStore, { params, query }: HandlerInput): Reply {
  const executions = store.list(
    params.FlowSid,
    dateFilter(query, 'DateCreatedFrom'),
    dateFilter(query, 'DateCreatedTo'),
  );
  return json(
    200,
    metaPage({
      key: 'executions',
      all: executions,
      render: renderExecution,
      base: `${STUDIO_BASE}/Flows/${params.FlowSid}/Executions`,
      query,
    }),
  );
}

export function studioExecutionRoutes(store: ExecutionStore): RouteTable {
  return {
    'studio:CreateExecution': {
      name: 'studio.executions.create',
      handle: ({ params, form, accountSid }) => {
        // The spec check has required To and From.
        const execution = store.createFromRest(
          accountSid,
          params.FlowSid,
          one(form, 'To') ?? '',
          one(form, 'From') ?? '',
          parseParameters(one(form, 'Parameters')),
        );
        return json(201, renderExecution(execution));
      },
    },
    'studio:FetchExecution': {
      name: 'studio.executions.fetch',
      handle: ({ params }) => json(200, renderExecution(store.inFlow(params.FlowSid, params.Sid))),
    },
    'studio:ListExecution': { name: 'studio.executions.list', handle: (input) => listExecutions(store, input) },
    'studio:UpdateExecution': {
      name: 'studio.executions.update',
      handle: ({ params, form }) => {
        const execution = store.inFlow(params.FlowSid, params.Sid);
        if (one(form, 'Status') !== 'ended')
          throw new TwilioApiError(400, ErrorCode.invalidParameter, 'An Execution can only be updated to Status ended');
        store.end(execution.sid, 'rest');
        return json(200, renderExecution(execution));
      },
    },
    'studio:FetchExecutionContext': {
      name: 'studio.executionContext.fetch',
      handle: ({ params }) => json(200, renderContext(store.inFlow(params.FlowSid, params.ExecutionSid))),
    },
  };
}
