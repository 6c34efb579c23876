/** One problem the checker found in a flow definition. */

export type Severity = 'error' | 'warning';

export interface Fault {
  /** The file as the user named it (or the name given to checkFlow). */
  file: string;
  /** The state's name; null for a fault of the definition as a whole. */
  state: string | null;
  /** Where in the state (or definition) the fault is, e.g. `transitions[1].next`. */
  property: string;
  message: string;
  /** Errors fail the check; warnings are printed and fail it only in strict mode. */
  severity: Severity;
}

/** One line, naming file, state and property: `file: state "x", property "y": message`. */
export function formatFault(fault: Fault): string {
  const where =
    fault.state === null
      ? `flow, property "${fault.property}"`
      : `state "${fault.state}", property "${fault.property}"`;
  const label = fault.severity === 'warning' ? 'warning: ' : '';
  return `${fault.file}: ${where}: ${label}${fault.message}`;
}

/** Collects faults for one file, so each check reads as a list of findings. */
export class FaultList {
  readonly faults: Fault[] = [];

  constructor(private readonly file: string) {}

  error(state: string | null, property: string, message: string): void {
    this.faults.push({ file: this.file, state, property, message, severity: 'error' });
  }

  warning(state: string | null, property: string, message: string): void {
    this.faults.push({ file: this.file, state, property, message, severity: 'warning' });
  }
}

/** A short, readable rendering of a JSON value for messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return `${shown} (${kind})`;
}
