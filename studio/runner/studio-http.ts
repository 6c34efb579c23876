/**
 * Studio's HTTP widgets (Run Function, Make HTTP Request) and their rules: the reply must come
 * within 10 s, be 2xx/3xx and at most 64 KB, else the failure transition; `body`, `status_code`
 * and `content_type` are always set; `parsed` only for an application/json top-level object.
 */
import { STUDIO_HTTP_TIMEOUT_MS, STUDIO_REPLY_BYTES } from '../platform';
import { HttpFailure, type Execution } from './execution';
import { abbreviateSids } from './service-urls';
import type { WidgetOutputs } from './studio-context';

export interface StudioHttpCall {
  widget: string;
  method: 'GET' | 'POST';
  url: string;
  form?: Array<[string, string]>;
  json?: string;
  /** Event for a failed request: `fail` (Run Function) or `failed` (Make HTTP Request). */
  failEvent: string;
}

export interface StudioHttpResult {
  event: string;
  outputs: WidgetOutputs;
  /** One line for the timeline: the reply, or why there is none. */
  summary: string;
}

/** Studio parses only a JSON object; anything else leaves `parsed` unset. */
export function parseStudioJson(contentType: string, body: string): Record<string, unknown> | undefined {
  if (contentType.split(';')[0]!.trim().toLowerCase() !== 'application/json') return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function preview(body: string, max = 160): string {
  const flat = abbreviateSids(body.replace(/\s+/g, ' ').trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export async function studioHttp(execution: Execution, call: StudioHttpCall): Promise<StudioHttpResult> {
  try {
    const reply = await execution.http({
      widget: call.widget,
      method: call.method,
      url: call.url,
      form: call.form,
      json: call.json,
      timeoutMs: STUDIO_HTTP_TIMEOUT_MS,
      maxBytes: STUDIO_REPLY_BYTES,
    });
    const outputs: WidgetOutputs = { status_code: reply.status, content_type: reply.contentType, body: reply.body };
    const parsed = parseStudioJson(reply.contentType, reply.body);
    if (parsed) outputs.parsed = parsed;
    const ok = reply.status >= 200 && reply.status < 400;
    const notParsed = !parsed && /json/i.test(reply.contentType) && ok ? ' (not an object: not parsed)' : '';
    return {
      event: ok ? 'success' : call.failEvent,
      outputs,
      summary: `${reply.status} ${reply.contentType.split(';')[0] || '(no type)'} in ${(reply.durationMs / 1000).toFixed(1)} s${notParsed}  ${preview(reply.body)}`,
    };
  } catch (error) {
    if (!(error instanceof HttpFailure)) throw error;
    return { event: call.failEvent, outputs: { status_code: 0, content_type: '', body: '' }, summary: error.message };
  }
}

/** `key=value` pairs for the timeline, long values shortened. */
export function describeParams(pairs: Array<[string, string]>, max = 40): string {
  return pairs
    .map(([key, value]) => {
      const shown = abbreviateSids(value);
      return `${key}=${shown.length > max ? `${shown.slice(0, max - 1)}…` : shown}`;
    })
    .join(' ');
}
