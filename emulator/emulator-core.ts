/**
 * Everything one emulator holds: the stores behind the routes, the counts, the spec violations,
 * the fault injector and the behaviour profile in force; and what resets or shows them. The HTTP
 * side is server.ts.
 */
import { ReleaseWaiters, type ControlDeps } from './control-api';
import { FaultInjector, type FaultConfig } from './faults';
import { PhoneNumberStore, phoneNumberRoutes } from './phone-numbers';
import type { RouteTable } from './routes';
import { RequestStats } from './stats';
import { StatusCallbackSender } from './status-callbacks';
import { ExecutionStore, studioExecutionRoutes } from './studio-executions';
import { FlowStore, studioFlowRoutes } from './studio-flows';
import { SyncDocumentStore, syncDocumentRoutes } from './sync-documents';
import type { Clock } from './time';
import { checkProfile, type TwilioBehaviour } from './twilio-behaviour';
import type { EmulatorState, SpecViolation } from './types';
import { voiceRoutes } from './voice-routes';
import { VoiceStore } from './voice-store';

export interface CoreOptions {
  clock: Clock;
  log: (line: string) => void;
  authToken?: string;
  syncWriteLimit: boolean;
  faults: FaultConfig;
  /** The profile at the start, already checked; `reset()` comes back to it. */
  behaviour: TwilioBehaviour;
}

export class EmulatorCore {
  readonly stats = new RequestStats();
  readonly violations: SpecViolation[] = [];
  readonly releases = new ReleaseWaiters();
  readonly callbacks: StatusCallbackSender;
  readonly documents: SyncDocumentStore;
  readonly faults: FaultInjector;
  readonly flows: FlowStore;
  readonly numbers: PhoneNumberStore;
  readonly executions: ExecutionStore;
  readonly voice: VoiceStore;
  readonly routes: RouteTable;
  private current: TwilioBehaviour;

  constructor(private readonly options: CoreOptions) {
    const { clock, log } = options;
    this.current = options.behaviour;
    const switches = () => this.current.switches;
    this.callbacks = new StatusCallbackSender({
      clock,
      authToken: options.authToken,
      log,
      behaviour: () => this.current,
    });
    this.documents = new SyncDocumentStore(clock, { writeLimit: options.syncWriteLimit });
    this.faults = new FaultInjector(options.faults);
    this.flows = new FlowStore(clock);
    this.numbers = new PhoneNumberStore(clock);
    this.executions = new ExecutionStore(clock, this.flows, switches);
    this.voice = new VoiceStore(
      clock,
      {
        conferenceEvent: (event) => this.callbacks.conferenceEvent(event),
        callReleased: (call, release) => this.releases.notify(call.sid, release),
      },
      switches,
    );
    this.routes = {
      ...syncDocumentRoutes(this.documents),
      ...voiceRoutes(this.voice, clock, switches),
      ...studioFlowRoutes(this.flows),
      ...studioExecutionRoutes(this.executions),
      ...phoneNumberRoutes(this.numbers),
    };
  }

  /** The Twilio unknowns (twilio-behaviour.ts) as played now. */
  get behaviour(): TwilioBehaviour {
    return this.current;
  }

  setBehaviour(profile: TwilioBehaviour): void {
    this.current = checkProfile(profile, 'behaviour');
    this.options.log(`behaviour profile: ${this.current.name}`);
  }

  record(violation: Omit<SpecViolation, 'at'>): void {
    this.violations.push({ ...violation, at: new Date().toISOString() });
    this.options.log(
      `SPEC_VIOLATION (${violation.kind}) ${violation.method} ${violation.path}: ${violation.problems.join('; ')}`,
    );
  }

  state(): EmulatorState {
    return {
      documents: this.documents.listAll().map((doc) => ({
        sid: doc.sid,
        serviceSid: doc.serviceSid,
        uniqueName: doc.uniqueName,
        revision: String(doc.revision),
        data: doc.data,
        dateExpires: doc.dateExpires === null ? null : new Date(doc.dateExpires).toISOString(),
        history: doc.history.map((version) => ({ revision: String(version.revision), data: version.data })),
      })),
      conferences: this.voice.listConferences().map((conference) => ({
        sid: conference.sid,
        friendlyName: conference.friendlyName,
        status: conference.status,
        participants: [...conference.participants.keys()],
      })),
      executions: this.executions.all().map((execution) => ({
        sid: execution.sid,
        flowSid: execution.flowSid,
        contact: execution.contact,
        status: execution.status,
        startedBy: execution.startedBy,
        trigger: execution.trigger,
        data: execution.data,
      })),
    };
  }

  /** Forgets all state, counts and violations; faults and the behaviour profile go back to the start options. */
  async reset(): Promise<void> {
    this.faults.reset();
    this.current = this.options.behaviour;
    this.releases.cancelAll();
    this.documents.clear();
    this.executions.clear();
    this.flows.clear();
    this.numbers.clear();
    this.voice.clear();
    this.stats.reset();
    this.violations.length = 0;
    await this.callbacks.cancelAll();
  }

  /** What the control API (`/_emulator/...`) works on. */
  controlDeps(): ControlDeps {
    return {
      voice: this.voice,
      releases: this.releases,
      executions: this.executions,
      stats: () => this.stats.snapshot(),
      violations: () => [...this.violations],
      reset: () => this.reset(),
      faults: this.faults,
      state: () => this.state(),
      behaviour: { get: () => this.current, set: (profile) => this.setBehaviour(profile) },
    };
  }

  /** Lets go of what is pending (held faults, release long-polls, status callbacks) before the server closes. */
  async shutdown(): Promise<void> {
    this.faults.releaseHeld();
    this.releases.cancelAll();
    await this.callbacks.cancelAll();
  }
}
