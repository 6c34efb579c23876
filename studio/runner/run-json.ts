/**
 * A finished run as one JSON object (`npm run call -- --json`), for CI: the profile, where the
 * flow ended, what the caller heard, every stay in a room, and the jobs the run started, with
 * when the service recorded each job's completion and when the caller left its hold room. All
 * times are ms from the call's start. The fields are documented in README.md.
 */
import type { FlowAction, FlowEnd, FlowRun, HttpExchange, RoomStay, RunExecution, SentMessage } from './types';

/** Ends that mean the call ran its course (the flow, the caller or the TwiML ended it): exit 0. */
export function ranToAnEnd(end: FlowEnd): boolean {
  return (
    end.kind === 'completed' ||
    end.kind === 'caller-hung-up' ||
    end.kind === 'call-ended' ||
    end.kind === 'execution-ended'
  );
}

export interface RunJob {
  jobId: string;
  /** The job document's status (`PENDING`, `COMPLETED`, ...), or `unknown` when it is not found. */
  status: string;
  /** When the service recorded the job's completion (the document's finishedAt). */
  completedAtMs?: number;
  /** When the caller left the job's hold room (`hold_<jobId>`), the last time. */
  releasedAtMs?: number;
}

export interface RunJson {
  profile: string;
  switches: Record<string, boolean>;
  flowSid: string;
  executionSid: string;
  callSid?: string;
  /** True when the call ran to an end (exit 0). */
  ranToAnEnd: boolean;
  end: { kind: FlowEnd['kind']; widget?: string; event?: string; reason?: string; message?: string };
  path: string[];
  heard: Array<{
    kind: string;
    content: string;
    atMs: number;
    seconds: number;
    fullSeconds: number;
    cutShortBy?: string;
    widget: string;
  }>;
  rooms: Array<Pick<RoomStay, 'friendlyName' | 'joinedAtMs' | 'leftAtMs' | 'leftBecause' | 'timeLimitReached'>>;
  jobs: RunJob[];
  messages: Array<Pick<SentMessage, 'atMs' | 'to' | 'body'>>;
  /** Every Studio execution the run played, the inbound one first, then any the service started through the REST API. */
  executions: Array<Omit<RunExecution, 'data' | 'end'>>;
  /** What the flow did that nobody hears: recordings, streams, queues, payments, calls placed. */
  actions: FlowAction[];
  /** Every HTTP request: `mocked` says a fixture (or --auto) answered it instead of a server. */
  http: Array<Omit<HttpExchange, 'durationMs'>>;
  variables: Record<string, string>;
  steps: number;
  durationMs: number;
}

/** A job document as the emulator's `GET /_emulator/state` lists it (only what is read here). */
export interface JobDocument {
  uniqueName: string | null;
  data: Record<string, unknown>;
}

const HOLD_ROOM = /^hold_(.+)$/;

/** A widget's outputs, also when it ran inside a subflow (reported as `RUN_SUBFLOW/NAME`). */
export function widgetOutputs(run: Pick<FlowRun, 'widgets'>, name: string): FlowRun['widgets'][string] | undefined {
  const key = Object.keys(run.widgets).find((widget) => widget === name || widget.endsWith(`/${name}`));
  return key === undefined ? undefined : run.widgets[key];
}

/** The jobs a run started: every `parsed.jobId` a widget got, and every hold room's job. */
export function jobIdsOf(run: FlowRun): string[] {
  const ids = new Set<string>();
  for (const outputs of Object.values(run.widgets)) {
    const parsed = (outputs as { parsed?: unknown }).parsed;
    const jobId = typeof parsed === 'object' && parsed !== null ? (parsed as { jobId?: unknown }).jobId : undefined;
    if (typeof jobId === 'string' && jobId !== '') ids.add(jobId);
  }
  for (const stay of run.rooms) {
    const match = HOLD_ROOM.exec(stay.friendlyName);
    if (match) ids.add(match[1]!);
  }
  return [...ids];
}

/** The emulator's documents right now (`GET /_emulator/state`); empty when it cannot be read. */
export async function readJobDocuments(emulatorUrl: string | undefined): Promise<JobDocument[]> {
  if (!emulatorUrl) return [];
  try {
    const response = await fetch(`${emulatorUrl.replace(/\/+$/, '')}/_emulator/state`, {
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) return [];
    const state = (await response.json()) as { documents?: JobDocument[] };
    return Array.isArray(state.documents) ? state.documents : [];
  } catch {
    return [];
  }
}

export function runJobs(run: FlowRun, documents: JobDocument[]): RunJob[] {
  return jobIdsOf(run).map((jobId) => {
    const data = documents.find((document) => document.uniqueName === `job_${jobId}`)?.data;
    const job: RunJob = { jobId, status: typeof data?.status === 'string' ? data.status : 'unknown' };
    if (typeof data?.finishedAt === 'number') job.completedAtMs = data.finishedAt - run.startedAt;
    const left = run.rooms
      .filter((stay) => stay.friendlyName === `hold_${jobId}` && stay.leftAtMs !== undefined)
      .at(-1);
    if (left) job.releasedAtMs = left.leftAtMs;
    return job;
  });
}

export function runToJson(run: FlowRun, documents: JobDocument[]): RunJson {
  const end = run.end;
  return {
    profile: run.behaviour.name,
    switches: { ...run.behaviour.switches },
    flowSid: run.flowSid,
    executionSid: run.executionSid,
    ...(run.callSid ? { callSid: run.callSid } : {}),
    ranToAnEnd: ranToAnEnd(end),
    end: {
      kind: end.kind,
      widget: end.widget,
      ...('event' in end ? { event: end.event } : {}),
      ...('reason' in end ? { reason: end.reason } : {}),
      ...('message' in end ? { message: end.message } : {}),
    },
    path: run.path,
    heard: run.heard.map((audio) => ({
      kind: audio.kind,
      content: audio.content,
      atMs: audio.atMs,
      seconds: audio.heardSeconds,
      fullSeconds: audio.fullSeconds,
      ...(audio.cutShortBy ? { cutShortBy: audio.cutShortBy } : {}),
      widget: audio.widget,
    })),
    rooms: run.rooms.map((stay) => ({
      friendlyName: stay.friendlyName,
      joinedAtMs: stay.joinedAtMs,
      ...(stay.leftAtMs !== undefined ? { leftAtMs: stay.leftAtMs } : {}),
      ...(stay.leftBecause ? { leftBecause: stay.leftBecause } : {}),
      ...(stay.timeLimitReached ? { timeLimitReached: true } : {}),
    })),
    jobs: runJobs(run, documents),
    messages: run.messages.map((message) => ({ atMs: message.atMs, to: message.to, body: message.body })),
    executions: (run.executions ?? []).map((e) => ({
      sid: e.sid,
      trigger: e.trigger,
      startedBy: e.startedBy,
      status: e.status,
      ...(e.endedBy ? { endedBy: e.endedBy } : {}),
      startedAtMs: e.startedAtMs,
      ...(e.endedAtMs !== undefined ? { endedAtMs: e.endedAtMs } : {}),
    })),
    actions: (run.actions ?? []).map((action) => ({ ...action })),
    http: run.requests.map((request) => ({
      atMs: request.atMs,
      widget: request.widget,
      method: request.method,
      url: request.url,
      ...(request.status !== undefined ? { status: request.status } : {}),
      ...(request.error ? { error: request.error } : {}),
      ...(request.mocked ? { mocked: request.mocked } : {}),
    })),
    variables: run.variables,
    steps: run.steps,
    durationMs: run.durationMs,
  };
}
