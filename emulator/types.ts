/** Public types of the emulator. */
import type { Clock } from './time';

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
}

export interface EmulatorHandle {
  /** `http://127.0.0.1:<port>`: what TWILIO_API_BASE_URL should be set to. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Twilio API requests by operation name, plus `total`. */
  stats(): Record<string, number>;
  violations(): SpecViolation[];
  /** Forgets all documents, conferences, calls, flows, counts and violations. */
  reset(): void;
}
