/**
 * Studio's Liquid context for one execution (`trigger`, `flow`, `contact`, `widgets`) and the
 * rendering of widget properties with liquidjs. One instance per run: nothing is shared.
 */
import { Liquid, type Template } from 'liquidjs';

export type WidgetOutputs = Record<string, unknown>;

export interface ExecutionIds {
  accountSid: string;
  /** FW...: `{{flow.flow_sid}}`. */
  flowSid: string;
  /** FN...: `{{flow.sid}}`, the execution. */
  executionSid: string;
}

/** What started the execution: a call or a message (`trigger.call.*` / `trigger.message.*`). */
export type TriggerData = { kind: 'call'; call: Record<string, string> } | { kind: 'message'; message: Record<string, string> };

export class LiquidRenderError extends Error {}

export class StudioContext {
  readonly variables: Record<string, string> = {};
  readonly widgets: Record<string, WidgetOutputs> = {};
  private readonly liquid = new Liquid({ strictVariables: false, strictFilters: false, ownPropertyOnly: true });
  private readonly parsed = new Map<string, Template[]>();

  constructor(
    readonly ids: ExecutionIds,
    readonly trigger: TriggerData,
  ) {}

  /** The contact's address (caller / sender) and the flow's (the number that was called / texted). */
  private addresses(): { contact: string; flow: string } {
    const fields = this.trigger.kind === 'call' ? this.trigger.call : this.trigger.message;
    return { contact: fields.From ?? '', flow: fields.To ?? '' };
  }

  /** The object Liquid templates see. Built fresh so it always shows the latest outputs. */
  scope(): Record<string, unknown> {
    const { contact, flow } = this.addresses();
    return {
      trigger: this.trigger.kind === 'call' ? { call: this.trigger.call } : { message: this.trigger.message },
      flow: {
        sid: this.ids.executionSid,
        flow_sid: this.ids.flowSid,
        variables: this.variables,
        channel: { address: flow },
        data: {},
      },
      contact: { channel: { address: contact } },
      widgets: this.widgets,
    };
  }

  /** Renders a template the way Studio does: unknown variables are empty, errors are loud. */
  async render(template: string): Promise<string> {
    if (!template.includes('{')) return template;
    let templates = this.parsed.get(template);
    try {
      if (!templates) {
        templates = this.liquid.parse(template);
        this.parsed.set(template, templates);
      }
      return await this.liquid.render(templates, this.scope());
    } catch (error) {
      throw new LiquidRenderError(`Liquid error in ${JSON.stringify(template)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Renders a `[{key, value}]` list (Run Function parameters, Set Variables) in order. */
  async renderKeyValues(list: unknown): Promise<Array<[string, string]>> {
    if (!Array.isArray(list)) return [];
    const pairs: Array<[string, string]> = [];
    for (const item of list) {
      if (typeof item !== 'object' || item === null) continue;
      const { key, value } = item as { key?: unknown; value?: unknown };
      if (typeof key !== 'string' || key === '') continue;
      pairs.push([await this.render(key), await this.render(value === undefined || value === null ? '' : String(value))]);
    }
    return pairs;
  }
}
