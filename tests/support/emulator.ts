/**
 * The emulator on its own, for the tests of the emulator and of its faults: a started one with a
 * helper-library client, a movable clock, a callback receiver, small HTTP helpers.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type RestException from 'twilio/lib/base/RestException';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../emulator/server';
import { DEFAULT_ACCOUNT_SID } from '../../emulator/sids';
import { createEmulatorTwilioClient, TEST_AUTH_TOKEN } from '../../dev/emulator-client';
import { startedLater } from './started';

export const ACCOUNT_SID = DEFAULT_ACCOUNT_SID;

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms: number = Date.UTC(2026, 10, 21, 12, 0, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export async function startTestEmulator(options: EmulatorOptions = {}) {
  const emulator = await startEmulator(options);
  const client = createEmulatorTwilioClient(emulator.url);
  return { emulator, client };
}

export type EmulatorClient = ReturnType<typeof createEmulatorTwilioClient>;
export type CallbackReceiver = Awaited<ReturnType<typeof startCallbackReceiver>>;

export interface UseTestEmulatorOptions {
  /** Also start a callback receiver (emptied after each test, closed after the emulator). */
  receiver?: boolean;
  /** What must be empty after each test: the violations of the emulator's replies (default), or all of them. */
  violations?: 'response' | 'all';
}

/**
 * An emulator (and its client) for a whole test file or describe block: started in a beforeAll,
 * closed in an afterAll; after each test no violations, then `reset()`.
 */
export function useTestEmulator(
  emulatorOptions: EmulatorOptions = {},
  options: UseTestEmulatorOptions = {},
): { emulator: EmulatorHandle; client: EmulatorClient; receiver: CallbackReceiver } {
  let started: Awaited<ReturnType<typeof startTestEmulator>> | undefined;
  let receiver: CallbackReceiver | undefined;
  beforeAll(async () => {
    started = await startTestEmulator(emulatorOptions);
    if (options.receiver) receiver = await startCallbackReceiver();
  });
  afterEach(() => {
    const emulator = started!.emulator;
    expect(options.violations === 'all' ? emulator.violations() : responseViolations(emulator)).toEqual([]);
    emulator.reset();
    if (receiver) receiver.received.length = 0;
  });
  afterAll(async () => {
    await started?.emulator.close();
    await receiver?.close();
  });
  return {
    emulator: startedLater('the emulator', () => started?.emulator),
    client: startedLater('the emulator client', () => started?.client),
    receiver: startedLater('the callback receiver (asked for with `receiver`)', () => receiver),
  };
}

/** The error a helper-library call failed with (fails the test if it succeeded). */
export async function restError(promise: Promise<unknown>): Promise<RestException> {
  try {
    await promise;
  } catch (error) {
    return error as RestException;
  }
  throw new Error('expected the request to fail');
}

/** The emulator must never have sent a reply that breaks the spec. */
export function responseViolations(emulator: EmulatorHandle) {
  return emulator.violations().filter((v) => v.kind === 'response');
}

/** Calls the control API; returns status and parsed JSON. */
export async function control(baseUrl: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A Twilio API request built by hand, for the requests the helper library refuses to send. */
export async function rawTwilio(
  baseUrl: string,
  method: string,
  path: string,
  form?: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const auth = Buffer.from(`${ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64');
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      Authorization: `Basic ${auth}`,
      ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      ...headers,
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined,
  };
}

export interface ReceivedCallback {
  path: string;
  params: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

/** A tiny HTTP server on 127.0.0.1 that records conference status callbacks. */
export async function startCallbackReceiver(answerStatus = 200) {
  const received: ReceivedCallback[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
        headers: req.headers,
      });
      res.writeHead(answerStatus);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    events: (path?: string) =>
      received.filter((r) => !path || r.path === path).map((r) => r.params.StatusCallbackEvent),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
