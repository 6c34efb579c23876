/**
 * What Twilio's platform does to a flow and to the Functions it calls, in one place: the flow
 * checker, the flow runner, chaos runs and tests read these limits from here. Each names its
 * source.
 *
 * The simulated Studio keeps its own copy on purpose: the service's contract (src/lib/contracts.ts)
 * states the margins the service keeps inside these walls, and taking the walls from it would let
 * a change to the contract move the simulated platform with it.
 */

/**
 * Run Function and Make HTTP Request wait this long for a reply, then take their failure
 * transition (Studio's widget library, the Run Function and Make HTTP Request pages).
 */
export const STUDIO_HTTP_TIMEOUT_MS = 10_000;

/**
 * Studio parses a reply of at most 64 KB; a larger one is a failure (Studio's widget library, the
 * Run Function and Make HTTP Request pages).
 */
export const STUDIO_REPLY_BYTES = 64 * 1024;

/**
 * Twilio stops a Function that has not answered after 10 s, and the caller gets a 504 (Functions'
 * request flow and its limitations, twilio.com/docs/serverless/functions-assets/functions/request-flow).
 */
export const FUNCTION_TIME_LIMIT_MS = 10_000;

/**
 * Studio ends an execution when the same widget is about to run this many times in a row
 * (Studio FAQ, "What limits exist in Studio?", twilio.com/docs/studio/user-guide/studio-faq;
 * warning 81001).
 */
export const STUDIO_WIDGET_RUN_LIMIT = 10;

/** Studio ends an execution after this many steps (Studio FAQ, as above; warning 81000). */
export const STUDIO_STEP_LIMIT = 1000;

/**
 * A flow definition holds 1 to this many states (Studio's flow definition schema, `states`
 * `maxItems`, twilio.com/docs/studio/rest-api/v2/schemas). Not checked yet.
 */
export const STUDIO_STATES_PER_DEFINITION = 1000;

/**
 * The FAQ's figure for widgets in a flow, its subflows included (Studio FAQ, as above); larger
 * than the schema's limit per definition. Not checked yet.
 */
export const STUDIO_WIDGETS_PER_FLOW = 2000;
