/** Public types of the emulator. */
import type { FaultConfig, FaultReport } from './faults';
import type { Clock } from './time';
import type { TwilioBehaviour } from './twilio-behaviour';

export interface SpecViolation {
  /** `request`: a client sent something the spec forbids. `response`: the emulator itself is wrong. */
  kind: 'request' | 'response';
  method: string;
  path: string;
  /** The spec's operationId, when the path named one. */
  operationId?: string;
  problems: string[];
  /** ISO time the violation was recorded. */
  at: string;
}

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only: `127.0.0.1` (default), `localhost` or `::1`. */
  host?: string;
  /** Time source for TTLs, dates and filters; tests pass a controllable one. */
  clock?: Clock;
  /** When set, status callbacks carry X-Twilio-Signature computed with it. */
  authToken?: string;
  /** Where notes such as failed status callbacks go; silent by default. */
  log?: (line: string) => void;
  /** Faults to inject from the start (see faults.ts); `reset()` comes back to these. */
  faults?: FaultConfig;
  /** Enforce Sync's per-document write rate, 20/s (2/s from 10 KiB) -> 429 / 54009. Default true. */
  syncWriteLimit?: boolean;
  /**
   * How the emulator plays the Twilio behaviours no source settles (twilio-behaviour.ts).
   * Default `documented` (DEFAULT_PROFILE). `reset()` comes back to this one.
   */
  behaviour?: TwilioBehaviour;
}

/** What the emulator holds right now (control API `GET /_emulator/state`). */
export interface EmulatorState {
  documents: Array<{
    sid: string;
    serviceSid: string;
    uniqueName: string | null;
    revision: string;
    data: Record<string, unknown>;
    dateExpires: string | null;
    /** Earlier versions, oldest first (the last 10). */
    history: Array<{ revision: string; data: Record<string, unknown> }>;
  }>;
  conferences: Array<{ sid: string; friendlyName: string; status: string; participants: string[] }>;
  /** Studio executions: created by REST (`startedBy: rest`) or registered by the flow runner (`inbound`). */
  executions: Array<{
    sid: string;
    flowSid: string;
    contact: string;
    status: 'active' | 'ended';
    startedBy: 'rest' | 'inbound';
    trigger: string;
    data: Record<string, unknown>;
  }>;
}

export interface EmulatorHandle {
  /** `http://127.0.0.1:<port>`: what TWILIO_API_BASE_URL should be set to. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Twilio API requests by operation name, plus `total`. */
  stats(): Record<string, number>;
  violations(): SpecViolation[];
  /**
   * Forgets all documents, conferences, calls, flows, counts and violations; faults and the
   * behaviour profile go back to the start options.
   */
  reset(): void;
  /** Fault injection (same as `POST /_emulator/faults`, `POST /_emulator/faults/reset`, `GET /_emulator/faults`). */
  faults: {
    configure(config: FaultConfig): FaultConfig;
    clear(): void;
    report(): FaultReport;
  };
  /** Documents and conferences held right now. */
  state(): EmulatorState;
  /** The behaviour profile in force (same as `GET /_emulator/behaviour`). */
  readonly behaviour: TwilioBehaviour;
  /** Switches the profile at run time (same as `POST /_emulator/behaviour`); throws BehaviourProfileError if it is bad. */
  setBehaviour(profile: TwilioBehaviour): void;
}
