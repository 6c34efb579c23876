/**
 * How Twilio's Functions runtime hands a request to a function, as far as flows are concerned.
 *
 * The runtime builds a function's `event` as `{request: {headers, cookies}, ...query, ...body}`
 * (serverless-toolkit, runtime-handler's route). A caller's parameter whose name is one of the
 * runtime's own keys collides with them: locally the caller's value replaces the runtime's object,
 * deployed one of the two wins, and the service reads such a key as the runtime's (see
 * `callerParams` in src/lib/http/handler.ts). Either way it never reaches the function as a
 * parameter. This is the one list of those keys; the flow checker refuses them.
 */

/** The runtime's `event` layout, as the checker explains it. */
export const RUNTIME_EVENT_LAYOUT = '{request: {headers, cookies}, ...query, ...body}';

/** Keys of `event` that the runtime fills in itself. */
export const RESERVED_EVENT_KEYS: readonly string[] = ['request'];

export function isReservedEventKey(key: string): boolean {
  return RESERVED_EVENT_KEYS.includes(key);
}
