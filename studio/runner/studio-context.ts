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

/**
 * What started the execution: a call, a message, a Conversation message or a REST API request
 * (`trigger.call.*`, `trigger.message.*`, `trigger.conversation.*`, `trigger.request.*`).
 */
export type TriggerData =
  | { kind: 'call'; call: Record<string, string> }
  | { kind: 'message'; message: Record<string, string> }
  | { kind: 'conversation'; conversation: Record<string, string> }
  | { kind: 'request'; request: Record<string, string> };

/** Where a subflow's context differs from its parent's: `trigger.parent.parameters`, and `flow.data`. */
export interface ContextExtras {
  /** `trigger.parent.parameters` (a subflow's). */
  parentParameters?: Record<string, string>;
  /** `flow.data` (a REST API execution's `Parameters`). */
  data?: Record<string, unknown>;
}

export class LiquidRenderError extends Error {}

export class StudioContext {
  readonly variables: Record<string, string> = {};
  readonly widgets: Record<string, WidgetOutputs> = {};
  private readonly liquid = new Liquid({ strictVariables: false, strictFilters: false, ownPropertyOnly: true });
  private readonly parsed = new Map<string, Template[]>();

  constructor(
    readonly ids: ExecutionIds,
    readonly trigger: TriggerData,
    readonly extras: ContextExtras = {},
  ) {}

  /** The trigger's fields (`trigger.call`, `trigger.message`, ...). */
  triggerFields(): Record<string, string> {
    switch (this.trigger.kind) {
      case 'call':
        return this.trigger.call;
      case 'message':
        return this.trigger.message;
      case 'conversation':
        return this.trigger.conversation;
      case 'request':
        return this.trigger.request;
    }
  }

  /**
   * The contact's address (caller / sender / the API's `To`) and the flow's (the number called or
   * texted / the API's `From`).
   */
  addresses(): { contact: string; flow: string } {
    const fields = this.triggerFields();
    if (this.trigger.kind === 'request') return { contact: fields.To ?? '', flow: fields.From ?? '' };
    if (this.trigger.kind === 'conversation')
      return { contact: fields.Author ?? '', flow: fields.ConversationSid ?? '' };
    return { contact: fields.From ?? '', flow: fields.To ?? '' };
  }

  /** The object Liquid templates see. Built fresh so it always shows the latest outputs. */
  scope(): Record<string, unknown> {
    const { contact, flow } = this.addresses();
    const trigger: Record<string, unknown> = { [this.trigger.kind]: this.triggerFields() };
    if (this.extras.parentParameters) trigger.parent = { parameters: this.extras.parentParameters };
    return {
      trigger,
      flow: {
        sid: this.ids.executionSid,
        flow_sid: this.ids.flowSid,
        variables: this.variables,
        channel: { address: flow },
        data: this.extras.data ?? {},
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
      throw new LiquidRenderError(
        `Liquid error in ${JSON.stringify(template)}: ${error instanceof Error ? error.message : String(error)}`,
      );
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
      pairs.push([
        await this.render(key),
        await this.render(value === undefined || value === null ? '' : String(value)),
      ]);
    }
    return pairs;
  }
}
