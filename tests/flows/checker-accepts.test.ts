/**
 * The checker accepts our own flows. (The reference flows kept beside the project are checked by
 * `npm run flows:check-fixtures`, outside jest, so a bare clone tests itself.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkFlow, formatFault, functionSidPlaceholder, listServiceFunctions } from '../../studio/checker';
import { fakeFunctionsDir, loadFlow, MESSAGING_FLOW, SERVICE_FUNCTIONS, VOICE_FLOW } from './flow-fixtures';

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
