/**
 * What the `use…` helpers build on: servers a file's beforeAll starts and its afterAll stops,
 * named at the top of the file like a `let` would be, and stood in for until they are running.
 */
import { startExampleBackend, type ExampleBackend, type ExampleBackendOptions } from '../../backends/example-backend';
import type { EmulatorHandle } from '../../emulator/server';

/**
 * A stand-in for the value `current()` gives once a beforeAll has set it: reading a property
 * reads the running value's. Read before that (outside a test or hook), it fails naming `what`.
 */
export function startedLater<T extends object>(what: string, current: () => T | undefined): T {
  const running = (): T => {
    const value = current();
    if (value === undefined) throw new Error(`${what} is not running (it starts in beforeAll)`);
    return value;
  };
  return new Proxy({} as T, {
    // A method called through the stand-in sees it as `this`, and reads on through it.
    get: (_target, key) => Reflect.get(running(), key),
    set: (_target, key, value) => Reflect.set(running(), key, value),
    has: (_target, key) => Reflect.has(running(), key),
    ownKeys: () => Reflect.ownKeys(running()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(running(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/** What the `use…` helpers of the stacks take. */
export interface StackOptions {
  /**
   * Starts the example backend with these options first and points the stack at it: BACKEND_URL
   * its URL, WEBHOOK_SECRET its secret.
   */
  backend?: ExampleBackendOptions;
  /** More environment for the functions (wins over the backend's). */
  env?: Record<string, string>;
  /** After each test, expect the emulator to have seen nothing off its spec (default true). */
  checkViolations?: boolean;
}

/**
 * The example backend (when asked) and then a stack pointed at it, started in a beforeAll and
 * stopped in an afterAll, the stack first; `current` is the running stack (undefined outside).
 */
export function useStackWithBackend<S extends { stop(): Promise<void> }>(
  what: string,
  start: (env: Record<string, string>) => Promise<S>,
  emulatorOf: (stack: S) => EmulatorHandle,
  options: StackOptions,
): { started: S; backend: ExampleBackend; current: () => S | undefined } {
  let stack: S | undefined;
  let backend: ExampleBackend | undefined;
  beforeAll(async () => {
    if (options.backend) backend = await startExampleBackend(options.backend);
    const backendEnv: Record<string, string> = backend
      ? { BACKEND_URL: backend.url, WEBHOOK_SECRET: options.backend!.secret }
      : {};
    stack = await start({ ...backendEnv, ...options.env });
  });
  afterAll(async () => {
    await stack?.stop();
    await backend?.close();
  });
  if (options.checkViolations ?? true) afterEach(() => expect(emulatorOf(stack!).violations()).toEqual([]));
  return {
    started: startedLater(what, () => stack),
    backend: startedLater('the example backend (asked for with `backend`)', () => backend),
    current: () => stack,
  };
}
