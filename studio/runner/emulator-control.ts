/**
 * The caller's side of a call, through the emulator: register the call (`POST /_emulator/calls`),
 * join a room (`/_emulator/conferences/join`), hang up, and long-poll until Twilio would move the
 * call on (`/_emulator/calls/{sid}/released`; numbered with `after=SEQ` on emulators that register
 * calls, so each release is seen once).
 * Where Twilio itself acts on the call (a Dial's timeLimit, Studio taking a call back) this uses
 * the emulator's REST API the way Twilio's own systems would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RunInterrupted } from './clock';

export interface JoinRoom {
  friendlyName: string;
  callSid: string;
  from?: string;
  to?: string;
  startConferenceOnEnter?: boolean;
  endConferenceOnExit?: boolean;
  statusCallback?: string;
  statusCallbackMethod?: string;
  statusCallbackEvent?: string[];
}

export interface Release {
  /** The release's number (emulators that register calls); each call counts from 1. */
  seq?: number;
  reason: 'conference-ended' | 'call-redirected' | 'call-completed' | 'participant-removed' | 'caller-hangup' | string;
  conferenceSid?: string | null;
  twiml?: string;
  url?: string;
  method?: string;
}

/** The emulator answered a control request with an HTTP error. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The answer's body as sent. */
    readonly body: string = '',
  ) {
    super(message);
  }
}

function releaseOf(answer: Release): Release {
  const { seq, reason, conferenceSid, twiml, url, method } = answer;
  return { ...(seq !== undefined ? { seq } : {}), reason, conferenceSid, twiml, url, method };
}

/** An execution as the emulator's control API shows it (emulator/studio-executions.ts). */
export interface ControlExecution {
  executionSid: string;
  flowSid: string;
  contact: string;
  flowAddress: string;
  status: 'active' | 'ended';
  startedBy: 'rest' | 'inbound';
  trigger: string;
  data: Record<string, unknown>;
  endedBy?: string;
  alreadyEnded?: boolean;
}

/** Long-polls at most this long per request; the emulator allows 120 s. */
const LONG_POLL_MS = 25_000;
const CONTROL_TIMEOUT_MS = 10_000;

export class EmulatorControl {
  private readonly base: string;

  constructor(emulatorUrl: string) {
    this.base = emulatorUrl.replace(/\/+$/, '');
  }

  private async call(
    path: string,
    init: RequestInit,
    timeoutMs = CONTROL_TIMEOUT_MS,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`emulator did not answer ${path} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await fetch(this.base + path, { ...init, signal: controller.signal });
      const text = await response.text();
      if (!response.ok)
        throw new ControlError(
          response.status,
          `emulator ${init.method ?? 'GET'} ${path} answered ${response.status}: ${text.slice(0, 200)}`,
          text,
        );
      return text === '' ? {} : (JSON.parse(text) as unknown);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Makes the call known to the emulator as in progress from its start, so REST updates reach it
   * before it joins a room. `registered`: created now or already there (409); `unsupported`: an
   * older emulator without the route (404), which knows a call only once it joins a room.
   */
  async createCall(request: { callSid: string; from?: string; to?: string }): Promise<'registered' | 'unsupported'> {
    try {
      await this.call('/_emulator/calls', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      return 'registered';
    } catch (error) {
      if (error instanceof ControlError && error.status === 409) return 'registered';
      if (error instanceof ControlError && error.status === 404) return 'unsupported';
      throw error;
    }
  }

  /**
   * Every release of the call numbered above `after`, in order, each handed to `onRelease` once
   * (a continuous long-poll; needs an emulator that numbers releases). A reply without a number
   * stops the feed and is reported through `onUnnumbered`. stop() ends the long-poll in flight.
   */
  releaseFeed(
    callSid: string,
    after: number,
    onRelease: (release: Release & { seq: number }) => void,
    onUnnumbered?: () => void,
  ): { stop(): void } {
    const controller = new AbortController();
    let cursor = after;
    void (async () => {
      while (!controller.signal.aborted) {
        try {
          const answer = (await this.call(
            `/_emulator/calls/${encodeURIComponent(callSid)}/released?timeoutMs=${LONG_POLL_MS}&after=${cursor}`,
            { method: 'GET' },
            LONG_POLL_MS + 5000,
            controller.signal,
          )) as { released?: boolean } & Release;
          if (controller.signal.aborted) break;
          if (!answer.released) continue;
          if (typeof answer.seq !== 'number') {
            onUnnumbered?.();
            break;
          }
          if (answer.seq <= cursor) continue; // already seen
          cursor = answer.seq;
          onRelease({ ...releaseOf(answer), seq: answer.seq });
        } catch {
          if (controller.signal.aborted) break;
          await sleep(250, undefined, { signal: controller.signal }).catch(() => undefined); // emulator busy or restarting: ask again
        }
      }
    })();
    return { stop: () => controller.abort(new RunInterrupted({ kind: 'aborted', reason: 'feed stopped' })) };
  }

  /**
   * The inbound message or call starts an execution the emulator holds to Studio's one-active
   * rule. `registered`; `unsupported` (an emulator without executions: 404); or the active
   * execution that keeps Studio from starting this one (409).
   */
  async registerExecution(request: {
    flowSid: string;
    executionSid: string;
    accountSid: string;
    contact: string;
    flowAddress: string;
    trigger: string;
    concurrent?: boolean;
    definition?: unknown;
  }): Promise<{ kind: 'registered' } | { kind: 'unsupported' } | { kind: 'refused'; activeExecutionSid: string }> {
    try {
      await this.call('/_emulator/executions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      return { kind: 'registered' };
    } catch (error) {
      if (error instanceof ControlError && error.status === 404) return { kind: 'unsupported' };
      if (error instanceof ControlError && error.status === 409) {
        const active = (JSON.parse(error.body || '{}') as { activeExecutionSid?: unknown }).activeExecutionSid;
        if (typeof active === 'string') return { kind: 'refused', activeExecutionSid: active };
      }
      throw error;
    }
  }

  async execution(executionSid: string, signal?: AbortSignal): Promise<ControlExecution> {
    return (await this.call(
      `/_emulator/executions/${encodeURIComponent(executionSid)}`,
      { method: 'GET' },
      CONTROL_TIMEOUT_MS,
      signal,
    )) as ControlExecution;
  }

  /** The execution's flow ended: Studio ends the execution (unchanged, `alreadyEnded`, when something ended it first). */
  async endExecution(executionSid: string): Promise<ControlExecution> {
    return (await this.call(`/_emulator/executions/${encodeURIComponent(executionSid)}/end`, {
      method: 'POST',
    })) as ControlExecution;
  }

  /** REST-created executions of the flow for the contact that nobody runs yet; waits up to `timeoutMs` for one. */
  async unclaimedExecutions(
    flowSid: string,
    contact: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<ControlExecution[]> {
    const query = new URLSearchParams({ flowSid, contact, timeoutMs: String(Math.min(timeoutMs, LONG_POLL_MS)) });
    const answer = (await this.call(
      `/_emulator/executions?${query}`,
      { method: 'GET' },
      LONG_POLL_MS + 5000,
      signal,
    )) as { executions: ControlExecution[] };
    return answer.executions;
  }

  /** Takes a REST-created execution to run; undefined when another runner took it first. */
  async claimExecution(executionSid: string): Promise<ControlExecution | undefined> {
    try {
      return (await this.call(`/_emulator/executions/${encodeURIComponent(executionSid)}/claim`, {
        method: 'POST',
      })) as ControlExecution;
    } catch (error) {
      if (error instanceof ControlError && error.status === 409) return undefined;
      throw error;
    }
  }

  async join(request: JoinRoom, signal?: AbortSignal): Promise<{ conferenceSid: string; conferenceStatus: string }> {
    return (await this.call(
      '/_emulator/conferences/join',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) },
      CONTROL_TIMEOUT_MS,
      signal,
    )) as { conferenceSid: string; conferenceStatus: string };
  }

  /** The caller hangs up. Not tied to the run's signal: it is what ends the run. */
  async hangup(callSid: string): Promise<void> {
    await this.call(`/_emulator/calls/${encodeURIComponent(callSid)}/hangup`, { method: 'POST' });
  }

  /**
   * Watches for the call's release from its room. `released` resolves with the release, or with
   * null once stop() is called; it never rejects. stop() ends the long-poll in flight.
   */
  watchRelease(callSid: string): { released: Promise<Release | null>; current(): Release | null; stop(): void } {
    const controller = new AbortController();
    let found: Release | null = null;
    const released = (async (): Promise<Release | null> => {
      while (!controller.signal.aborted) {
        try {
          const answer = (await this.call(
            `/_emulator/calls/${encodeURIComponent(callSid)}/released?timeoutMs=${LONG_POLL_MS}`,
            { method: 'GET' },
            LONG_POLL_MS + 5000,
            controller.signal,
          )) as { released?: boolean } & Release;
          if (answer.released) {
            found = releaseOf(answer);
            return found;
          }
        } catch {
          if (controller.signal.aborted) break;
          await sleep(250, undefined, { signal: controller.signal }).catch(() => undefined); // emulator busy or restarting: ask again
        }
      }
      return null;
    })();
    return {
      released,
      current: () => found,
      stop: () => controller.abort(new RunInterrupted({ kind: 'aborted', reason: 'watch stopped' })),
    };
  }

  /** Twilio ends the Dial at its timeLimit: the caller leaves the room (REST: remove participant). */
  async removeFromRoom(accountSid: string, conferenceSid: string, callSid: string): Promise<void> {
    await this.call(
      `/api/2010-04-01/Accounts/${accountSid}/Conferences/${conferenceSid}/Participants/${callSid}.json`,
      {
        method: 'DELETE',
        headers: { authorization: basicAuth(accountSid) },
      },
    );
  }

  /** Studio takes a call back (TwiML Redirect widget timeout): REST redirect of the call. */
  async redirectCall(accountSid: string, callSid: string, url: string): Promise<void> {
    await this.call(`/api/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json`, {
      method: 'POST',
      headers: { authorization: basicAuth(accountSid), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Url: url, Method: 'POST' }).toString(),
    });
  }
}

function basicAuth(accountSid: string): string {
  return `Basic ${Buffer.from(`${accountSid}:emulator`).toString('base64')}`;
}
