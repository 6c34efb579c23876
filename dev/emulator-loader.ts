import fs from 'node:fs';
import path from 'node:path';
import type { EmulatorHandle, EmulatorOptions } from '../emulator/server';
import { PROJECT_ROOT } from './paths';

export type { EmulatorHandle, EmulatorOptions } from '../emulator/server';

type StartEmulator = (options?: EmulatorOptions) => Promise<EmulatorHandle>;

const EMULATOR_MODULE = path.join(PROJECT_ROOT, 'emulator', 'server');
const BEHAVIOUR_MODULE = path.join(PROJECT_ROOT, 'emulator', 'twilio-behaviour');

export type BehaviourModule = typeof import('../emulator/twilio-behaviour');

export function isEmulatorAvailable(): boolean {
  return ['.ts', '.js'].some((ext) => fs.existsSync(EMULATOR_MODULE + ext));
}

/**
 * Loads startEmulator on first use only: `npm start` against a real account never pays for
 * loading the emulator (and its OpenAPI specs), and a checkout without it gets a clear message.
 */
function assertEmulatorAvailable(): void {
  if (!isEmulatorAvailable()) {
    throw new Error(
      'The local Twilio emulator (emulator/server.ts) is not in this checkout, so there is nothing ' +
        'to run the service against offline. Put real ACCOUNT_SID and AUTH_TOKEN values in .env to ' +
        'run against Twilio instead.',
    );
  }
}

export function loadStartEmulator(): StartEmulator {
  assertEmulatorAvailable();
  const loaded = require(EMULATOR_MODULE) as { startEmulator?: StartEmulator };
  if (typeof loaded.startEmulator !== 'function') {
    throw new Error('emulator/server does not export startEmulator({ port, host })');
  }
  return loaded.startEmulator;
}

/** The behaviour profiles (emulator/twilio-behaviour.ts), loaded on first use like the emulator. */
export function loadBehaviourModule(): BehaviourModule {
  assertEmulatorAvailable();
  return require(BEHAVIOUR_MODULE) as BehaviourModule;
}
