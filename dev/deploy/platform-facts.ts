/**
 * What the Twilio Serverless platform is known to accept and refuse at deploy, and its published
 * limits: the one place preflight (dev/deploy/preflight.ts) takes them from. Each entry names
 * its source. Nothing here was checked against a live account; where the sources disagree, the
 * entry says so and preflight takes the side that cannot fail at the platform.
 */

export type Verdict = 'accepted' | 'refused';

export interface RuntimeFact {
  runtime: string;
  verdict: Verdict;
  /** Why, in words a refusal can quote. */
  reason: string;
  source: string;
}

export interface HandlerFact {
  /** Exact @twilio/runtime-handler version. */
  version: string;
  /** The runtimes this verdict is about ('*' = every runtime). */
  runtime: string;
  verdict: Verdict;
  reason: string;
  source: string;
}

/** The pair this project ships. */
export const SHIPPED_PAIR = { runtime: 'node22', handler: '2.0.1' } as const;

export const RUNTIMES: RuntimeFact[] = [
  {
    runtime: 'node22',
    verdict: 'accepted',
    reason: 'the platform default',
    source:
      'https://www.twilio.com/en-us/changelog/node-js-v24-is-now-available-for-twilio-functions ("node22 remains the platform default")',
  },
  {
    runtime: 'node24',
    verdict: 'refused',
    reason:
      'node24 needs @twilio/runtime-handler 2.1.2, which npm does not carry, and deploys to it are reported failing',
    source:
      'https://www.twilio.com/en-us/changelog/node-js-v24-is-now-available-for-twilio-functions (needs 2.1.2); `npm view @twilio/runtime-handler versions` (highest 2.1.0); twilio-labs/serverless-toolkit #564 ("unable to deploy a NodeJS 24 runtime application")',
  },
  {
    runtime: 'node20',
    verdict: 'refused',
    reason: 'node20 can no longer be used for new builds',
    source:
      'twilio-labs/serverless-toolkit PR #565 (2026-09, Twilio staff: "Node 20 is deprecated on Twilio Serverless and can no longer be used for new builds")',
  },
  {
    runtime: 'node18',
    verdict: 'refused',
    reason: 'node18 is refused for new deploys since 2025-11-10',
    source: 'https://www.twilio.com/en-us/changelog/node-js-v18-support-ending-for-twilio-functions-and-assets',
  },
];

export const HANDLERS: HandlerFact[] = [
  {
    version: '2.0.1',
    runtime: 'node22',
    verdict: 'accepted',
    reason: "Twilio's docs list 2.0.1 as the default",
    source: 'https://www.twilio.com/docs/serverless/functions-assets/handler',
  },
  {
    version: '2.1.0',
    runtime: '*',
    verdict: 'refused',
    reason: "npm's 2.1.0 is refused by the platform at deploy (Error 20001)",
    source:
      'twilio-labs/serverless-toolkit PR #558 (2026-06: "2.1.0 ... is currently rejected by the Twilio Serverless platform at deploy time (Error 20001)") and #564 (2026-09)',
  },
  {
    version: '2.0.3',
    runtime: '*',
    verdict: 'refused',
    reason: "npm's 2.0.3 was refused by the platform at deploy",
    source:
      'twilio-labs/serverless-toolkit #538 (2025-02: "No matching version found for @twilio/runtime-handler@2.0.3"); create-twilio-function now scaffolds 2.0.3, so it may be accepted again: unconfirmed, refused here',
  },
];

/** twilio-run's own default runtime when .twilioserverlessrc names none (5.1.0 changed it). */
export const TWILIO_RUN_DEFAULT_RUNTIME_NOTE =
  'twilio-run 5.1.0 deploys to node24 unless told otherwise (serverless-toolkit commit 8ab50b5, #555); 5.0.1 sends no runtime and the platform picks node22';

export interface Limit {
  value: number;
  what: string;
  source: string;
}

const SERVERLESS_API_LIMITS = 'https://www.twilio.com/docs/runtime/functions-assets-api ("Limits")';
const SERVERLESS_SPEC = 'twilio_serverless_v1.json (@twilio-alpha/mcp 0.7.0), parameter descriptions';

export const LIMITS = {
  functionVersionsPerBuild: { value: 50, what: 'Function versions in a build', source: SERVERLESS_API_LIMITS },
  publicAssetVersionsPerBuild: {
    value: 1000,
    what: 'public or protected Asset versions in a build',
    source: SERVERLESS_API_LIMITS,
  },
  privateAssetVersionsPerBuild: { value: 50, what: 'private Asset versions in a build', source: SERVERLESS_API_LIMITS },
  variableKeyChars: {
    value: 128,
    what: 'characters in a Variable key',
    source: `${SERVERLESS_SPEC} (Variable Key: "a maximum of 128 characters")`,
  },
  variableValueBytes: {
    value: 450,
    what: 'bytes in a Variable value',
    source: `${SERVERLESS_SPEC} (Variable Value: "a maximum of 450 bytes in size")`,
  },
  pathChars: {
    value: 255,
    what: 'characters in a Function or Asset path',
    source: `${SERVERLESS_SPEC} (Function Version / Asset Version Path: "a maximum of 255 characters")`,
  },
  serviceNameChars: {
    value: 50,
    what: 'characters in a Service unique name',
    source: `${SERVERLESS_SPEC} (Service UniqueName: "50 characters or less")`,
  },
  fileBytes: {
    value: 25 * 1024 * 1024,
    what: 'bytes in one uploaded file',
    source:
      'https://support.twilio.com/hc/en-us/articles/360019105433 (Assets "up to 25MB in size for each file"; no separate figure for Serverless API uploads or for Functions was found, so the same ceiling is applied to both)',
  },
} satisfies Record<string, Limit>;
