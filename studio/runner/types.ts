/** What a flow run takes and what it hands back. */
import type { TwilioBehaviour } from '../../emulator/twilio-behaviour';
import type { FlowDefinition } from '../flow-model';
import type { WidgetOutputs } from './studio-context';

/** A phone call into the flow (`incomingCall`); fields become `trigger.call.*`. */
export interface CallTrigger {
  kind: 'call';
  from?: string;
  to?: string;
  /** CA + 32 hex; random when omitted. */
  callSid?: string;
  /** Extra `trigger.call.*` fields (override the defaults). */
  fields?: Record<string, string>;
}

/** A text message into the flow (`incomingMessage`); fields become `trigger.message.*`. */
export interface MessageTrigger {
  kind: 'message';
  body: string;
  from?: string;
  to?: string;
  fields?: Record<string, string>;
}

/** A message in a Conversation (`incomingConversationMessage`); fields become `trigger.conversation.*`. */
export interface ConversationTrigger {
  kind: 'conversation';
  body: string;
  /** The participant who wrote (`Author`); the contact's address. */
  author?: string;
  fields?: Record<string, string>;
}

/**
 * An execution created through Studio's REST API (`incomingRequest`): `To` is the contact
 * (`contact.channel.address`), `From` the flow's number (`flow.channel.address`), and
 * `parameters` (the API's `Parameters` JSON) become `flow.data`.
 */
export interface RequestTrigger {
  kind: 'request';
  to?: string;
  from?: string;
  parameters?: Record<string, unknown>;
}

/**
 * The flow run as a subflow on its own (`incomingParent`): `parameters` become
 * `trigger.parent.parameters`; the parent's trigger is a call unless `via` says otherwise.
 */
export interface ParentTrigger {
  kind: 'parent';
  parameters?: Record<string, string>;
  via?: CallTrigger | MessageTrigger;
}

export type FlowTrigger = CallTrigger | MessageTrigger | ConversationTrigger | RequestTrigger | ParentTrigger;

/** The trigger event a trigger fires. */
export const TRIGGER_EVENTS: Record<FlowTrigger['kind'], string> = {
  call: 'incomingCall',
  message: 'incomingMessage',
  conversation: 'incomingConversationMessage',
  request: 'incomingRequest',
  parent: 'incomingParent',
};

export interface RunFlowOptions {
  definition: FlowDefinition;
  /** Where the service answers (twilio-run), e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** The Twilio emulator (its `/_emulator/` control API plays the caller's side of a call). */
  emulatorUrl?: string;
  trigger: FlowTrigger;
  /** FW + 32 hex; random when omitted. */
  flowSid?: string;
  /** AC + 32 hex; the local stack's fake account when omitted. */
  accountSid?: string;
  /** The deployed service's domain (e.g. studio-async-1234-dev.twil.io): its URLs go to baseUrl too. */
  serviceDomain?: string;
  /** The caller hangs up this many ms after the call started. */
  hangUpAfterMs?: number;
  /** The caller hangs up this many ms after first joining a room (on hold, whatever the load). */
  hangUpInRoomAfterMs?: number;
  /** Delay between receiving `<Dial><Conference>` and being in the room (Twilio's connect time). */
  joinDelayMs?: number;
  /**
   * How fast the caller's side plays: 1 = real time (default), 0.1 = ten times faster. Scales Say,
   * Play and Pause only; the service, the backend and the flow's HTTP limits keep real time.
   */
  timeScale?: number;
  /** The whole run stops after this long (default 30 minutes). */
  maxRunMs?: number;
  /** Stops the run from outside. */
  signal?: AbortSignal;
  /** Folders holding the service's assets, to read how long a played file lasts (default dist/assets, src/assets). */
  assetDirs?: string[];
  /** Function paths of the service (`/jobs/start`, ...), for Run Function widgets whose URL is a placeholder. */
  functionPaths?: string[];
  /** Called with each timeline entry as it happens (the CLI prints them live). */
  onEntry?: (entry: TimelineEntry) => void;
  /**
   * How Twilio plays the behaviours no public source settles (emulator/twilio-behaviour.ts);
   * default `documented` (every unknown at its least helpful for the service).
   */
  behaviour?: TwilioBehaviour;
  /**
   * The phone number's Fallback URL: Twilio Voice requests it when the first TwiML of a TwiML
   * Redirect widget cannot be fetched or used. Without one the caller hears Twilio's application
   * error and the call ends.
   */
  fallbackUrl?: string;
  /**
   * Who answers the flow's questions: what the caller presses or says, what the contact replies,
   * how a dialled party or an agent answers (contact.ts). Default: a silent contact (every wait
   * times out) and Studio's plain outcome for everything else.
   */
  contact?: import('./contact').Contact;
  /**
   * Answers for requests to hosts other than the local service (Make HTTP Request, Run Function on
   * another domain, TwiML and audio elsewhere): http-fixtures.ts. Without it every such request is
   * a failure naming the URL.
   */
  http?: import('./http-fixtures').HttpFixtures;
  /**
   * Subflow definitions by Flow SID (FW...) for Run Subflow widgets; `*` stands for any. A
   * `__FLOW_SID_*__` placeholder not given here is found in flows/ (studio/project-subflows.ts).
   */
  subflows?: Record<string, FlowDefinition>;
  /**
   * A Run Subflow whose definition is not given: `error` (default) ends the run saying which SID
   * is missing; `complete` fires `completed` with no variables (a note says so; --auto).
   */
  missingSubflow?: 'error' | 'complete';
  /**
   * After an inbound execution whose service promised a later execution (a Run Function reply
   * with `delivery: "execution"`, StartReply), how long to wait for the service to start it
   * through the REST API (default 120 s; never past maxRunMs). It is then run in the same report.
   */
  restExecutionWaitMs?: number;
}

export type EntryKind =
  /** a widget ran and took a transition */
  | 'widget'
  /** an HTTP request of Studio or Twilio Voice */
  | 'http'
  /** Twilio Voice acting on TwiML (joining, leaving a room) */
  | 'voice'
  /** what the caller hears */
  | 'audio'
  | 'note'
  | 'end';

export interface TimelineEntry {
  /** Milliseconds since the call started. */
  atMs: number;
  widget: string;
  kind: EntryKind;
  text: string;
  /** 0: Studio itself; 1: inside the TwiML a widget handed the call to. */
  depth: 0 | 1;
}

export interface HeardAudio {
  atMs: number;
  widget: string;
  kind: 'say' | 'play' | 'pause';
  /** What was said, or the played file's URL. */
  content: string;
  /** How long it lasts when played to the end. */
  fullSeconds: number;
  /** How long the caller actually heard it. */
  heardSeconds: number;
  /** Why it stopped early, if it did (`redirected`: a REST update of the call moved it on). */
  cutShortBy?: 'released' | 'hangup' | 'timeout' | 'redirected' | 'run-ended';
}

export interface SentMessage {
  atMs: number;
  widget: string;
  from: string;
  to: string;
  body: string;
}

/** Something the flow did that the runner records without a caller hearing it (a recording, a stream, a task). */
export interface FlowAction {
  atMs: number;
  widget: string;
  /** The widget type. */
  type: string;
  /** One line: what happened. */
  text: string;
}

export interface FlexTask {
  atMs: number;
  widget: string;
  workflow: string;
  channel: string;
  attributes: string;
}

/** A stay of the caller in a conference room (a `<Dial><Conference>`). */
export interface RoomStay {
  widget: string;
  friendlyName: string;
  conferenceSid: string;
  joinedAtMs: number;
  /** When the caller left the room; unset if the run ended with them still in it (it never does). */
  leftAtMs?: number;
  /**
   * Why: the emulator's release reason (`conference-ended`, `participant-removed`,
   * `call-redirected`, `call-completed`), or `caller-hangup`, `widget-timeout`, `run-stopped`.
   */
  leftBecause?: string;
  /** The Dial's timeLimit ran out (Twilio took the caller out). */
  timeLimitReached?: boolean;
}

export interface HttpExchange {
  atMs: number;
  widget: string;
  method: string;
  url: string;
  status?: number;
  durationMs: number;
  error?: string;
  /** Answered from the run's HTTP fixtures (or generated by --auto), not the network. */
  mocked?: 'fixture' | 'generated';
}

export type FlowEnd =
  /** a transition with no next widget */
  | { kind: 'completed'; widget: string; event: string }
  /** the caller hung up (scenario option) */
  | { kind: 'caller-hung-up'; widget: string }
  /** the call ended in TwiML outside Studio (Hangup, end of document, ended by REST) */
  | { kind: 'call-ended'; widget: string; reason: string }
  /** a widget was about to run for the 10th time */
  | { kind: 'widget-limit'; widget: string; runs: number }
  | { kind: 'step-limit'; widget: string; steps: number }
  | { kind: 'run-timeout'; widget: string; afterMs: number }
  /** Studio ended the execution from outside (REST Status=ended, or replaced by a REST-created one) */
  | { kind: 'execution-ended'; widget: string; by: string }
  | { kind: 'error'; widget: string; message: string };

/** One Studio execution the run played: the inbound one, then any the service started through the REST API. */
export interface RunExecution {
  sid: string;
  /** The trigger event: `incomingMessage`, `incomingCall`, `incomingRequest`, ... */
  trigger: string;
  startedBy: 'inbound' | 'rest';
  /** `ended` once its flow ended (or Studio ended it); `active` if the run stopped while it ran. */
  status: 'active' | 'ended';
  /** What ended it: its flow (`flow-ended`), the REST API (`rest`), a REST-created execution replacing it (`replaced`). */
  endedBy?: string;
  /** When it started and ended, ms from the run's start. */
  startedAtMs: number;
  endedAtMs?: number;
  /** `flow.data` (a REST-created execution's Parameters). */
  data?: Record<string, unknown>;
  end: FlowEnd;
}

export interface FlowRun {
  /** The behaviour profile the run played (its name and switches). */
  behaviour: TwilioBehaviour;
  /** When the call started (epoch ms); every `atMs` counts from here. */
  startedAt: number;
  flowSid: string;
  executionSid: string;
  callSid?: string;
  timeline: TimelineEntry[];
  heard: HeardAudio[];
  messages: SentMessage[];
  flexTasks: FlexTask[];
  /** Recordings, streams, queues, payments, virtual agents, calls placed: one line each (always set by runFlow). */
  actions?: FlowAction[];
  requests: HttpExchange[];
  /** Every time the caller was in a conference room. */
  rooms: RoomStay[];
  variables: Record<string, string>;
  /** Each widget's outputs; a subflow's widgets as `RUN_SUBFLOW_WIDGET/inner` (their last run). */
  widgets: Record<string, WidgetOutputs>;
  /** Widget names in the order they ran. */
  path: string[];
  /**
   * Each transition taken, in order: the widget, its event, the index of the transition in the
   * widget's `transitions` (-1 when the widget has none for the event) and where it led.
   */
  taken?: Array<{ widget: string; event: string; index: number; next?: string }>;
  /** Where the last execution ended (the inbound one, or the REST-created one that followed it). */
  end: FlowEnd;
  /** Every execution played, in order (always set by runFlow; the inbound one first). */
  executions?: RunExecution[];
  steps: number;
  durationMs: number;
}
