/**
 * The checker accepts our own flows. (The reference flows kept beside the project are checked by
 * `npm run flows:check-fixtures`, outside jest, so a bare clone tests itself.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkFlow, formatFault, functionSidPlaceholder, listServiceFunctions } from '../../studio/checker';
import { fakeFunctionsDir, HOLD_SUBFLOW, loadFlow, MESSAGING_FLOW, minimalHoldParent, SERVICE_FUNCTIONS, VOICE_FLOW } from './flow-fixtures';

describe('our flows', () => {
  it.each([
    ['voice-hold.json', VOICE_FLOW],
    ['hold-subflow.json', HOLD_SUBFLOW],
    ['messaging.json', MESSAGING_FLOW],
  ])('%s has no faults at all', (name, file) => {
    const faults = checkFlow(loadFlow(file), { fileName: name, serviceFunctions: SERVICE_FUNCTIONS });
    expect(faults.map(formatFault)).toEqual([]);
  });

  it.each([
    ['voice-hold.json', VOICE_FLOW],
    ['hold-subflow.json', HOLD_SUBFLOW],
    ['messaging.json', MESSAGING_FLOW],
  ])('%s calls only functions src/functions has (when it has any)', (name, file) => {
    const faults = checkFlow(loadFlow(file), { fileName: name });
    expect(faults.map(formatFault)).toEqual([]);
  });
});

describe('a parent of the hold subflow', () => {
  it('with only a Run Subflow widget and a Say has no faults', () => {
    expect(checkFlow(minimalHoldParent(), { fileName: 'parent.json', serviceFunctions: SERVICE_FUNCTIONS }).map(formatFault)).toEqual([]);
  });

  it('names its subflow by a Flow SID or a __FLOW_SID_*__ placeholder; anything else is a warning', () => {
    const withSid = (flowSid: string) => {
      const flow = minimalHoldParent();
      flow.states[1]!.properties.flow_sid = flowSid;
      return checkFlow(flow, { fileName: 'parent.json', serviceFunctions: SERVICE_FUNCTIONS }).map(formatFault);
    };
    expect(withSid(`FW${'a'.repeat(32)}`)).toEqual([]);
    expect(withSid('hold-subflow')).toEqual([
      'parent.json: state "look_up", property "flow_sid": warning: "hold-subflow" is neither a Flow SID (FW + 32 hex digits) nor a __FLOW_SID_<FILE>__ placeholder; Studio runs the subflow by its SID',
    ]);
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
