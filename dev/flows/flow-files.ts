/**
 * The flow files to deploy, read and filled: which files (with the subflows they run), their
 * friendly names, the order to deploy them in, and which one answers phone calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { flowFileForPlaceholder, flowSidPlaceholderName } from '../../studio/project-subflows';
import {
  DeployFlowsError,
  fillPlaceholders,
  howToSet,
  isFlowSidName,
  OPTIONAL_PLACEHOLDERS,
  placeholdersIn,
  valueProblem,
} from './placeholders';

export interface FlowFile {
  file: string;
  friendlyName: string;
  /** Filled, except `__FLOW_SID_*__` of flows deployed in the same run (filled at deploy time). */
  definition: unknown;
}

/** The friendly name a flow file is deployed under: "<prefix> <file name>". */
export function flowFriendlyName(namePrefix: string, file: string): string {
  return `${namePrefix} ${path.basename(file, '.json')}`.trim();
}

/** The placeholder name (`FLOW_SID_HOLD_SUBFLOW`) that stands for this file's deployed SID. */
export const ownSidName = (flow: FlowFile) => flowSidPlaceholderName(flow.file);

/** The file's definition, or undefined when it cannot be read (prepareFlows names the file). */
export function readFlowDefinition(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The problems with the values one definition's placeholders get. */
function valueProblems(
  file: string,
  definition: unknown,
  values: Record<string, string>,
  deployedHere: Set<string>,
): string[] {
  const problems: string[] = [];
  for (const name of placeholdersIn(definition)) {
    const value = values[name];
    if (value === undefined || value === '') {
      if (deployedHere.has(name)) continue; // filled when that flow is deployed
      if (!OPTIONAL_PLACEHOLDERS.has(name))
        problems.push(`${path.basename(file)} needs __${name}__: set ${howToSet(name)}`);
      continue;
    }
    const problem = valueProblem(name, value);
    if (problem) problems.push(problem);
  }
  return problems;
}

/**
 * Reads the flow files and fills their placeholders. Throws DeployFlowsError naming every value
 * that is missing or malformed, so nothing is sent to Twilio half-filled.
 */
export function prepareFlows(files: string[], values: Record<string, string>, namePrefix: string): FlowFile[] {
  const problems: string[] = [];
  const deployedHere = new Set(files.map((file) => flowSidPlaceholderName(file)));
  const flows = files.map((file) => {
    let definition: unknown;
    try {
      definition = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new DeployFlowsError(`${file}: cannot read the flow: ${(error as Error).message}`);
    }
    problems.push(...valueProblems(file, definition, values, deployedHere));
    return { file, friendlyName: flowFriendlyName(namePrefix, file), definition: fillPlaceholders(definition, values) };
  });
  if (problems.length > 0) throw new DeployFlowsError([...new Set(problems)].join('\n'));
  return flows;
}

/**
 * The files to deploy: `files` plus, for each `__FLOW_SID_<FILE>__` they use that no value
 * fills, the flow file it stands for beside them (studio/project-subflows.ts), added once.
 */
export function withSubflowFiles(
  files: string[],
  values: Record<string, string>,
): { files: string[]; added: string[] } {
  const all = [...files];
  const added: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const definition = readFlowDefinition(all[i]!);
    if (definition === undefined) continue;
    for (const name of placeholdersIn(definition)) {
      if (!isFlowSidName(name) || values[name]) continue;
      const file = flowFileForPlaceholder(`__${name}__`, path.dirname(all[i]!));
      if (file && !all.some((known) => path.resolve(known) === path.resolve(file))) {
        all.push(file);
        added.push(file);
      }
    }
  }
  return { files: all, added };
}

/** Subflows before the flows that run them (by `__FLOW_SID_*__`), otherwise in the order given. */
export function deployOrder(flows: FlowFile[]): FlowFile[] {
  const used = new Set(flows.flatMap((flow) => [...placeholdersIn(flow.definition)].filter(isFlowSidName)));
  return [
    ...flows.filter((flow) => used.has(ownSidName(flow))),
    ...flows.filter((flow) => !used.has(ownSidName(flow))),
  ];
}

/** The flow a phone call goes to: the one whose Trigger answers incomingCall. */
export function voiceFlowOf(flows: FlowFile[]): FlowFile {
  const answersCalls = flows.filter((flow) => {
    const definition = flow.definition as {
      initial_state?: string;
      states?: Array<{ name: string; transitions?: Array<{ event: string; next?: string }> }>;
    };
    const trigger = definition.states?.find((state) => state.name === definition.initial_state);
    return Boolean(trigger?.transitions?.some((t) => t.event === 'incomingCall' && t.next));
  });
  if (answersCalls.length !== 1) {
    throw new DeployFlowsError(
      answersCalls.length === 0
        ? '--number: none of these flows answers incoming calls'
        : `--number: several flows answer incoming calls (${answersCalls.map((f) => path.basename(f.file)).join(', ')}): deploy the one to wire on its own`,
    );
  }
  return answersCalls[0] as FlowFile;
}
