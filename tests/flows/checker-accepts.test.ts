/** The checker accepts every real exported flow we keep as reference, and our own flows. */
import fs from 'node:fs';
import path from 'node:path';
import { checkFlow, checkFlowFile, formatFault, functionSidPlaceholder, listServiceFunctions } from '../../studio/checker';
import {
  fakeFunctionsDir,
  loadFlow,
  MESSAGING_FLOW,
  realFlowFiles,
  REAL_FLOWS_DIR,
  SERVICE_FUNCTIONS,
  VOICE_FLOW,
} from './flow-fixtures';

describe('real exported flows', () => {
  const files = realFlowFiles();

  it('are all there', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files.map((file) => [path.basename(file), file]))('%s has no errors', (_name, file) => {
    const errors = checkFlowFile(file, { serviceFunctions: SERVICE_FUNCTIONS }).filter((f) => f.severity === 'error');
    expect(errors.map(formatFault)).toEqual([]);
  });

  it('only draw warnings for loops paced by the contact', () => {
    // Both Flex templates resend a message on deliveryFailure with no counter: Studio accepts
    // that, and ends the execution after 10 failed sends, so it is a warning, not an error.
    const warnings = files
      .flatMap((file) => checkFlowFile(file, { fileName: path.basename(file), serviceFunctions: SERVICE_FUNCTIONS }))
      .filter((f) => f.severity === 'warning')
      .map(formatFault);
    const paced =
      'loops straight back to this state on "deliveryFailure" with no counter; each pass waits on the contact, ' +
      'but Studio ends the execution when one widget runs 10 times: count passes in Set Variables and leave the loop from a Split on the count';
    expect(warnings).toEqual([
      `flex-template-messaging-parking.json: state "send_welcome", property "transitions[2].next": warning: ${paced}`,
      `flex-template-messaging.json: state "identify_queue", property "transitions[2].next": warning: ${paced}`,
    ]);
  });

  it('are read from shared/ beside the project', () => {
    expect(fs.existsSync(path.join(REAL_FLOWS_DIR, 'README.md'))).toBe(true);
  });
});

describe('our flows', () => {
  it.each([
    ['voice-hold.json', VOICE_FLOW],
    ['messaging-poll.json', MESSAGING_FLOW],
  ])('%s has no faults at all', (name, file) => {
    const faults = checkFlow(loadFlow(file), { fileName: name, serviceFunctions: SERVICE_FUNCTIONS });
    expect(faults.map(formatFault)).toEqual([]);
  });

  it.each([
    ['voice-hold.json', VOICE_FLOW],
    ['messaging-poll.json', MESSAGING_FLOW],
  ])('%s calls only functions src/functions has (when it has any)', (name, file) => {
    const faults = checkFlow(loadFlow(file), { fileName: name });
    expect(faults.map(formatFault)).toEqual([]);
  });
});

describe('service functions', () => {
  it('are read from the source folder the way twilio-run maps files to paths', () => {
    const dir = fakeFunctionsDir(['/jobs/start', '/hold']);
    fs.writeFileSync(path.join(dir, 'jobs', 'complete.ts'), 'export {};\n');
    fs.writeFileSync(path.join(dir, 'shared.private.ts'), 'export {};\n');
    expect(listServiceFunctions(dir)).toEqual(['/hold', '/jobs/complete', '/jobs/start']);
    expect(listServiceFunctions(path.join(dir, 'missing'))).toBeNull();
  });

  it('have SID placeholders the deploy step fills in', () => {
    expect(functionSidPlaceholder('/jobs/start')).toBe('__FUNCTION_SID_JOBS_START__');
    expect(functionSidPlaceholder('/hold/wait')).toBe('__FUNCTION_SID_HOLD_WAIT__');
  });
});
