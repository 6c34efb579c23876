/**
 * The offline flow runner: a simulated Studio + Twilio Voice that runs a flow definition against
 * the local service and the Twilio emulator.
 *
 *   const run = await runFlow({ definition, baseUrl, emulatorUrl, trigger: { kind: 'call' } });
 *   console.log(formatRun(run, definition));
 */
export { runFlow } from './run-flow';
export { describeEnd } from './flow-end';
export { formatEntry, formatHeader, formatRun, formatSummary, widgetColumnWidth } from './format-run';
export { conditionHolds } from './split-conditions';
export { ranToAnEnd, readJobDocuments, runToJson, type RunJob, type RunJson } from './run-json';
export { parseStudioJson } from './studio-http';
export { parseTwiml } from './twiml';
export type {
  CallTrigger,
  FlexTask,
  FlowEnd,
  FlowRun,
  FlowTrigger,
  HeardAudio,
  HttpExchange,
  MessageTrigger,
  RoomStay,
  RunFlowOptions,
  SentMessage,
  TimelineEntry,
} from './types';
