/**
 * Behaviour profiles: how the emulator and the flow runner play the Twilio behaviours that no
 * public source settles (docs/TWILIO-DIFFERENCES.md has the evidence for each). Every unknown is
 * a named switch; a profile sets them all. The service must pass under every profile.
 *
 * - `documented`: only what sources confirm; every unknown at its least helpful for the service.
 * - `hopeful`: what the first version of the service assumed (every unknown in its favour).
 *
 * A profile file is JSON `{"name"?, "extends"?: "documented"|"hopeful", "switches": {NAME: bool}}`
 * (unnamed switches come from `extends`, default `documented`); a verify:live record file, which
 * carries the same `switches` object, is a profile too.
 */
import fs from 'node:fs';

export interface BehaviourSwitch {
  /** The item in research/twilio-behaviour-audit.md and docs/TWILIO-DIFFERENCES.md. */
  audit: string;
  /** The question the switch answers; `true` means "yes". */
  question: string;
  /** The answer that helps the service least (the `documented` profile's value). */
  leastHelpful: boolean;
}

export const BEHAVIOUR_SWITCHES = {
  endInitConferenceByRest: {
    audit: 'V2',
    question: 'Does a REST Status=completed end a conference that is still `init` (the caller waiting alone)?',
    leastHelpful: false,
  },
  dialTimeLimitBoundsConference: {
    audit: 'V10',
    question: 'Does <Dial timeLimit> take the caller out of a <Conference> when it runs out?',
    leastHelpful: false,
  },
  listInitConferencesByStatus: {
    audit: 'V12',
    question:
      'Does the Conferences list still answer Status=init with the rooms waiting to start (after the 2026-09-30 change)?',
    leastHelpful: false,
  },
  participantCallStatusOnLeave: {
    audit: 'V9',
    question: 'Does participant-leave carry ParticipantCallStatus (in-progress when moved on, completed when hung up)?',
    leastHelpful: false,
  },
  studioTakesCallBackOnTimeout: {
    audit: 'S4',
    question: "When a TwiML Redirect widget's timeout passes, does Studio take the call back from the foreign TwiML?",
    leastHelpful: false,
  },
  executionCreateEndsActiveExecution: {
    audit: 'S18',
    question:
      'When Executions.create names a contact that already has an active execution of that flow, does Studio end that one and start the new one (instead of refusing the create)?',
    leastHelpful: false,
  },
  waitUrlHonoursConnectionOverrides: {
    audit: 'V18',
    question:
      "Does a conference's waitUrl (and a <Redirect> in its TwiML) honour the webhook connection overrides of its URL fragment (#rc=..&rp=..), retrying a failed or refused request?",
    leastHelpful: false,
  },
} as const satisfies Record<string, BehaviourSwitch>;

export type BehaviourSwitchName = keyof typeof BEHAVIOUR_SWITCHES;
export type BehaviourSwitches = Record<BehaviourSwitchName, boolean>;

export interface TwilioBehaviour {
  /** `documented`, `hopeful`, or the file's name. */
  name: string;
  switches: BehaviourSwitches;
}

export const SWITCH_NAMES = Object.keys(BEHAVIOUR_SWITCHES) as BehaviourSwitchName[];

function allSwitches(value: (name: BehaviourSwitchName) => boolean): BehaviourSwitches {
  return Object.fromEntries(SWITCH_NAMES.map((name) => [name, value(name)])) as BehaviourSwitches;
}

export const BUILT_IN_PROFILES = {
  documented: { name: 'documented', switches: allSwitches((name) => BEHAVIOUR_SWITCHES[name].leastHelpful) },
  hopeful: { name: 'hopeful', switches: allSwitches((name) => !BEHAVIOUR_SWITCHES[name].leastHelpful) },
} as const satisfies Record<string, TwilioBehaviour>;

export type BuiltInProfileName = keyof typeof BUILT_IN_PROFILES;
export const PROFILE_NAMES = Object.keys(BUILT_IN_PROFILES) as BuiltInProfileName[];

/** The profile a run uses when none is named: Twilio as documented, unknowns at their worst. */
export const DEFAULT_PROFILE: TwilioBehaviour = BUILT_IN_PROFILES.documented;

/** A profile name or file that cannot be used; the message says which and why. */
export class BehaviourProfileError extends Error {}

const isBuiltIn = (name: string): name is BuiltInProfileName => Object.hasOwn(BUILT_IN_PROFILES, name);

/** Checks a parsed profile file (or record) and fills what it leaves out from its base. */
export function profileFromJson(raw: unknown, source: string): TwilioBehaviour {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new BehaviourProfileError(`${source}: a behaviour profile is a JSON object`);
  const body = raw as Record<string, unknown>;
  const base = body.extends ?? 'documented';
  if (typeof base !== 'string' || !isBuiltIn(base)) {
    throw new BehaviourProfileError(
      `${source}: "extends" must be one of ${PROFILE_NAMES.join(', ')}, got ${JSON.stringify(base)}`,
    );
  }
  const given = body.switches ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new BehaviourProfileError(`${source}: "switches" must be an object`);
  const switches: BehaviourSwitches = { ...BUILT_IN_PROFILES[base].switches };
  for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
    if (!Object.hasOwn(BEHAVIOUR_SWITCHES, name)) {
      throw new BehaviourProfileError(`${source}: unknown switch "${name}" (known: ${SWITCH_NAMES.join(', ')})`);
    }
    if (typeof value !== 'boolean')
      throw new BehaviourProfileError(
        `${source}: switch "${name}" must be true or false, got ${JSON.stringify(value)}`,
      );
    switches[name as BehaviourSwitchName] = value;
  }
  const name = typeof body.name === 'string' && body.name.trim() !== '' ? body.name : source;
  return { name, switches };
}

/**
 * `documented`, `hopeful`, or a path to a JSON profile (or verify:live record). `label` names
 * where the value came from in error messages (`--twilio-behaviour`, `TWILIO_BEHAVIOUR`).
 */
export function loadBehaviourProfile(nameOrFile: string | undefined, label = '--twilio-behaviour'): TwilioBehaviour {
  if (nameOrFile === undefined || nameOrFile === '') return DEFAULT_PROFILE;
  if (isBuiltIn(nameOrFile)) return BUILT_IN_PROFILES[nameOrFile];
  if (!nameOrFile.endsWith('.json') && !fs.existsSync(nameOrFile)) {
    throw new BehaviourProfileError(
      `${label}: "${nameOrFile}" is neither a profile (${PROFILE_NAMES.join(', ')}) nor a JSON file`,
    );
  }
  let text: string;
  try {
    text = fs.readFileSync(nameOrFile, 'utf8');
  } catch (error) {
    throw new BehaviourProfileError(`${label}: cannot read ${nameOrFile}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BehaviourProfileError(`${label}: ${nameOrFile} is not JSON: ${(error as Error).message}`);
  }
  return profileFromJson(parsed, nameOrFile);
}

/** The environment variable through which a profile reaches child processes (emulator, runner). */
export const BEHAVIOUR_ENV = 'TWILIO_BEHAVIOUR';

/** One line for logs: `documented (endInitConferenceByRest=false, …)`. */
export function describeProfile(profile: TwilioBehaviour): string {
  return `${profile.name} (${SWITCH_NAMES.map((name) => `${name}=${profile.switches[name]}`).join(', ')})`;
}

/**
 * Checks a profile given in code (startEmulator's option, a test's setBehaviour) the way a file is
 * checked: unknown switches and non-boolean values are refused; switches left out come from
 * `documented`. Returns a copy, so later changes to the caller's object change nothing.
 */
export function checkProfile(profile: TwilioBehaviour, source: string): TwilioBehaviour {
  if (typeof profile !== 'object' || profile === null)
    throw new BehaviourProfileError(`${source}: a behaviour profile is an object`);
  return profileFromJson({ name: profile.name, switches: profile.switches }, source);
}
