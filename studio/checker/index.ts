/**
 * Offline checker for Studio Flow definitions: `checkFlow(definition, {fileName})` returns the
 * faults found, `checkFlowFile(path)` also reports a file that is not valid JSON.
 */
import fs from 'node:fs';
import { FUNCTIONS_SRC_DIR } from '../../dev/paths';
import { checkEventKeys } from './check-event-keys';
import { checkGraph } from './check-graph';
import { checkLiquid } from './check-liquid';
import { checkLoops } from './check-loops';
import { checkServiceUrls } from './check-service-urls';
import { checkShape } from './check-shape';
import { checkWidgets } from './check-widgets';
import { FaultList, type Fault } from './fault';
import { describeJsonSyntaxError, findJsonSyntaxError } from './json-syntax';
import { listServiceFunctions } from './service-functions';

export type { Fault, Severity } from './fault';
export { formatFault } from './fault';
export { functionSidPlaceholder, listServiceFunctions } from './service-functions';

export interface CheckOptions {
  /** Name used in every fault (the path as the user gave it). */
  fileName: string;
  /**
   * Function paths of the service (`/jobs/start`, ...). Default: read from src/functions now.
   * null: do not check which functions exist.
   */
  serviceFunctions?: readonly string[] | null;
}

/** The service's functions as found in src/functions; null while that folder holds none. */
export function projectServiceFunctions(): string[] | null {
  const found = listServiceFunctions(FUNCTIONS_SRC_DIR);
  return found && found.length > 0 ? found : null;
}

export function checkFlow(definition: unknown, options: CheckOptions): Fault[] {
  const faults = new FaultList(options.fileName);
  const flow = checkShape(definition, faults);
  if (flow === null) return faults.faults;

  const functions = options.serviceFunctions === undefined ? projectServiceFunctions() : options.serviceFunctions;
  checkGraph(flow, faults);
  checkWidgets(flow.states, faults);
  checkLiquid(flow.states, faults);
  checkServiceUrls(flow.states, functions, faults);
  checkEventKeys(flow.states, faults);
  checkLoops(flow.states, faults);
  return faults.faults;
}

/** Reads and checks one file; unreadable or malformed JSON is one fault, not an exception. */
export function checkFlowFile(filePath: string, options: Partial<CheckOptions> = {}): Fault[] {
  const fileName = options.fileName ?? filePath;
  const fileFault = (message: string): Fault[] => [
    { file: fileName, state: null, property: '(file)', message, severity: 'error' },
  ];
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    return fileFault(`cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    const syntax = findJsonSyntaxError(text);
    const detail = syntax
      ? describeJsonSyntaxError(syntax)
      : (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return fileFault(`is not valid JSON: ${detail}`);
  }
  return checkFlow(definition, { ...options, fileName });
}
