/**
 * The people on the other side of a flow: the caller who presses keys or speaks, the contact who
 * replies to a text, the party a call is connected to, the agent who takes a task. A widget that
 * waits on someone asks the run's Contact (`answer(ask)`); the answer is a ContactStep, or
 * undefined for the widget's plain outcome (see widgets-contact.ts for each widget's default).
 *
 * - ScriptedContact: the steps of a scenario, in order; a step naming a widget waits for it.
 * - AutoContact (--auto): plausible input, taken from what the flow's splits compare the widget's
 *   answer with (a menu's "1", a reply's "yes"); it moves to another candidate when the same
 *   widget asks again, so a retry loop is left rather than repeated.
 * - ExploringContact (flows:explore): each time a widget asks, the next of its options (every
 *   candidate, an answer that matches nothing, silence, every outcome event), across runs.
 */
import type { FlowDefinition, SplitCondition } from '../flow-model';

export interface ContactStep {
  /** The widget this step answers (a subflow's as `RUN_SUBFLOW_WIDGET/inner`); without it, the next one that asks. */
  widget?: string;
  /** Keys the caller presses (Gather Input On Call), e.g. "1" or "1234#". */
  press?: string;
  /** What the caller says (Gather Input On Call: `SpeechResult`). */
  say?: string;
  /** The contact's text reply (Send & Wait for Reply: `inbound.Body`). */
  reply?: string;
  /** Nothing: a Gather or a Send & Wait for Reply times out. */
  silent?: boolean;
  /** The widget's outcome by its event name (`busy`, `failedToEnqueue`, `maxFailedAttempts`, ...). */
  event?: string;
  /** Connect Call To / Make Outgoing Call: the other party `answered`, is `busy`, gives `no-answer`, or the call `failed`. */
  dial?: 'answered' | 'busy' | 'no-answer' | 'failed';
  /** How long it lasts: the conversation, the recording, the wait in a queue (seconds). */
  seconds?: number;
  /** Extra outputs of the widget (`widgets.NAME.key`), e.g. a virtual agent's. */
  outputs?: Record<string, string>;
  /** The caller hangs up at this widget. */
  hangUp?: boolean;
}

export interface ContactAsk {
  /** The widget's name (`RUN_SUBFLOW_WIDGET/inner` inside a subflow). */
  widget: string;
  type: string;
  /** `gather` (keys or speech), `reply` (a text), `outcome` (how a party answers). */
  kind: 'gather' | 'reply' | 'outcome';
  /** The events the widget can fire. */
  events: readonly string[];
  /** Gather: how many digits it takes (0: any). */
  numberOfDigits?: number;
  /** Only a step that names this widget answers it (Send Message's delivery): a script's other steps pass it by. */
  namedOnly?: boolean;
}

/** The keys of a step that make sense for each kind of ask. */
const FITS: Record<ContactAsk['kind'], ReadonlyArray<keyof ContactStep>> = {
  gather: ['press', 'say', 'silent', 'hangUp', 'event', 'outputs'],
  reply: ['reply', 'silent', 'event', 'outputs'],
  outcome: ['dial', 'event', 'seconds', 'hangUp', 'outputs', 'silent', 'say'],
};

/** True when the step can answer the ask (a "press" does not answer a dialled party). */
export function stepFits(step: ContactStep, ask: ContactAsk): boolean {
  const keys = (Object.keys(step) as Array<keyof ContactStep>).filter((k) => k !== 'widget' && step[k] !== undefined);
  return keys.every((k) => FITS[ask.kind].includes(k));
}

export interface Contact {
  answer(ask: ContactAsk): ContactStep | undefined;
  /** Steps of a script that no widget asked for (a scenario reports them). */
  unused?(): ContactStep[];
}

/** Nobody answers anything: every wait times out, every outcome is the plain one. */
export const SILENT_CONTACT: Contact = { answer: () => undefined };

export class ScriptedContact implements Contact {
  private readonly pending: ContactStep[];

  constructor(steps: readonly ContactStep[]) {
    this.pending = [...steps];
  }

  answer(ask: ContactAsk): ContactStep | undefined {
    const names = (step: ContactStep) => step.widget === ask.widget || ask.widget.endsWith(`/${step.widget}`);
    const index = this.pending.findIndex((step) =>
      step.widget === undefined ? !ask.namedOnly && stepFits(step, ask) : names(step),
    );
    if (index === -1) return undefined;
    // A step without a widget does not jump ahead of one that names this widget later on.
    return this.pending.splice(index, 1)[0];
  }

  unused(): ContactStep[] {
    return [...this.pending];
  }
}

/** Hints for a REST API execution's `flow.data` (as `parsed` paths) and for a message's Body. */
export const DATA_HINTS = '@flow.data';
export const BODY_HINTS = '@trigger.fields';

/** Values that splits compare a widget's answer with, per widget (from the flow and its subflows). */
export type InputHints = Map<
  string,
  { digits: string[]; words: string[]; parsed: Array<{ path: string[]; value: string }> }
>;

const WIDGET_REF = /widgets\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_.]+)/g;
/** `flow.data.x` (a REST API execution's parameters) and a message's Body: hints kept under these names. */
const TRIGGER_REFS: Array<[RegExp, string, (m: RegExpMatchArray) => string]> = [
  [/flow\.data\.([A-Za-z0-9_.]+)/g, DATA_HINTS, (m) => `parsed.${m[1]}`],
  [/trigger\.(?:message|conversation)\.([A-Za-z0-9_]+)/g, BODY_HINTS, (m) => `parsed.${m[1]}`],
];
const VARIABLE_REF = /flow\.variables\.([A-Za-z0-9_-]+)/g;

/** A value for which the condition holds, when one is easy to find. */
export function satisfying(condition: SplitCondition): string | undefined {
  const value = String(condition.value ?? '').trim();
  if (value.includes('{')) return undefined;
  switch (condition.type) {
    case 'equal_to':
    case 'contains':
    case 'starts_with':
      return value || undefined;
    case 'matches_any_of':
      return value
        .split(',')
        .map((part) => part.trim())
        .find(Boolean);
    case 'is_not_blank':
      return 'yes';
    case 'less_than':
      return Number.isFinite(Number(value)) && value !== '' ? String(Number(value) - 1) : undefined;
    case 'greater_than':
      return Number.isFinite(Number(value)) && value !== '' ? String(Number(value) + 1) : undefined;
    case 'regex':
      return fromRegex(value);
    default:
      return undefined;
  }
}

function fromRegex(source: string): string | undefined {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, 'i');
  } catch {
    return undefined;
  }
  const plain = source.replace(/^\^|\$$/g, '').replace(/\\b/g, '');
  const alternatives = plain.split('|').map((part) => part.replace(/[()]/g, ''));
  for (const candidate of [...alternatives, plain, '1', 'yes', '12345', 'a']) {
    if (candidate !== '' && !/[\\[\]{}*+?.]/.test(candidate) && pattern.test(candidate)) return candidate;
  }
  return undefined;
}

/** What the splits of these definitions compare each widget's answer with. */
export function inputHints(definitions: readonly FlowDefinition[]): InputHints {
  const hints: InputHints = new Map();
  const add = (widget: string, field: string, value: string) => {
    const entry = hints.get(widget) ?? { digits: [], words: [], parsed: [] };
    hints.set(widget, entry);
    if (field.startsWith('parsed.')) {
      const path = field.split('.').slice(1);
      if (!entry.parsed.some((p) => p.path.join('.') === path.join('.') && p.value === value))
        entry.parsed.push({ path, value });
      return;
    }
    const list = /^[0-9*#]+$/.test(value) ? entry.digits : entry.words;
    if (!list.includes(value)) list.push(value);
  };
  for (const definition of definitions) {
    // flow.variables.x = {{widgets.W.f}}: a split on the variable is a split on the widget's answer.
    const variableSource = new Map<string, Array<[string, string]>>();
    for (const state of definition.states) {
      if (state.type !== 'set-variables' || !Array.isArray(state.properties.variables)) continue;
      for (const item of state.properties.variables as Array<{ key?: string; value?: string }>) {
        if (typeof item?.key !== 'string' || typeof item.value !== 'string') continue;
        if (item.value.includes('|')) continue; // a filter (size, upcase, ...) changes the value
        const refs = [...item.value.matchAll(WIDGET_REF)].map((m) => [m[1]!, m[2]!] as [string, string]);
        if (refs.length > 0) variableSource.set(item.key, refs);
      }
    }
    for (const state of definition.states) {
      if (state.type !== 'split-based-on') continue;
      const input = String(state.properties.input ?? '');
      for (const transition of state.transitions) {
        for (const condition of transition.conditions ?? []) {
          const value = satisfying(condition);
          if (value === undefined) continue;
          const subject = condition.arguments?.[0] ?? input;
          for (const match of subject.matchAll(WIDGET_REF)) add(match[1]!, match[2]!, value);
          for (const [pattern, name, field] of TRIGGER_REFS)
            for (const match of subject.matchAll(pattern)) add(name, field(match), value);
          for (const match of subject.matchAll(VARIABLE_REF))
            for (const [widget, field] of variableSource.get(match[1]!) ?? []) add(widget, field, value);
        }
      }
    }
  }
  return hints;
}

/** The name a hint is kept under: the inner widget's own name inside a subflow. */
const hintName = (widget: string) => widget.slice(widget.lastIndexOf('/') + 1);

function digitsFor(ask: ContactAsk, hints: InputHints): string[] {
  const found = hints.get(hintName(ask.widget))?.digits ?? [];
  const fitting = ask.numberOfDigits ? found.filter((d) => d.replace(/#$/, '').length <= ask.numberOfDigits!) : found;
  // The plain answer comes last, so a loop that the candidates keep going round is left in the end.
  const plain = ask.numberOfDigits ? '1'.repeat(ask.numberOfDigits) : '1';
  return fitting.includes(plain) ? fitting : [...fitting, plain];
}

/** --auto: plausible answers, a different candidate each time the same widget asks. */
export class AutoContact implements Contact {
  private readonly asked = new Map<string, number>();

  constructor(private readonly hints: InputHints) {}

  answer(ask: ContactAsk): ContactStep | undefined {
    const turn = this.asked.get(ask.widget) ?? 0;
    this.asked.set(ask.widget, turn + 1);
    const hint = this.hints.get(hintName(ask.widget));
    if (ask.kind === 'gather') {
      const words = hint?.words ?? [];
      const digits = words.length > 0 && (hint?.digits ?? []).length === 0 ? [] : digitsFor(ask, this.hints);
      const options: ContactStep[] = [...digits.map((press) => ({ press })), ...words.map((say) => ({ say }))];
      return options[turn % options.length];
    }
    if (ask.kind === 'reply') {
      const options = [...(hint?.words ?? []), ...(hint?.digits ?? [])];
      return { reply: options.length > 0 ? options[turn % options.length]! : 'yes' };
    }
    return undefined; // the plain outcome
  }
}

/** flows:explore: every option of every widget in turn, remembered across runs. */
export class ExploringContact implements Contact {
  private readonly next = new Map<string, number>();

  constructor(private readonly hints: InputHints) {}

  /** How many options a widget has (the explorer stops when all were tried). */
  optionsOf(ask: ContactAsk): ContactStep[] {
    const hint = this.hints.get(hintName(ask.widget));
    if (ask.kind === 'gather') {
      const digits = digitsFor(ask, this.hints);
      const other = ask.numberOfDigits ? '0'.repeat(ask.numberOfDigits) : '0';
      return [
        ...digits.map((press) => ({ press })),
        ...(hint?.words ?? []).map((say) => ({ say })),
        ...(digits.includes(other) ? [] : [{ press: other }]),
        ...(ask.events.includes('speech') && (hint?.words ?? []).length === 0 ? [{ say: 'yes' }] : []),
        { silent: true },
        ...(ask.events.includes('hangup') ? [{ hangUp: true }] : []),
      ];
    }
    if (ask.kind === 'reply') {
      const words = [...(hint?.words ?? []), ...(hint?.digits ?? [])];
      return [
        ...words.map((reply) => ({ reply })),
        { reply: 'something else' },
        { silent: true },
        ...(ask.events.includes('deliveryFailure') ? [{ event: 'deliveryFailure' }] : []),
      ];
    }
    return ask.events.map((event) => ({ event }));
  }

  /** Set: every widget gets its option at this position each time (a stubborn caller, to find loops). */
  fixed?: number;
  /** The most options any widget had. */
  widest = 0;

  answer(ask: ContactAsk): ContactStep | undefined {
    const options = this.optionsOf(ask);
    this.widest = Math.max(this.widest, options.length);
    if (this.fixed !== undefined) return options[this.fixed % options.length];
    const index = this.next.get(ask.widget) ?? 0;
    this.next.set(ask.widget, index + 1);
    return options[index % options.length];
  }

  /** Widgets that have not yet been given each of their options. */
  tried(widget: string): number {
    return this.next.get(widget) ?? 0;
  }
}

/**
 * A generated trigger's data: a message's Body and a REST API execution's `flow.data` take values
 * the flow's splits compare them with (the `turn`-th candidate of each), so the branches after
 * the trigger can be reached.
 */
export function hintedTrigger<T extends { kind: string }>(trigger: T, hints: InputHints, turn = 0): T {
  if (trigger.kind === 'message' || trigger.kind === 'conversation') {
    const fields = hints.get(BODY_HINTS)?.parsed ?? [];
    if (fields.length === 0) return trigger;
    const current = trigger as unknown as { body: string; fields?: Record<string, string> };
    const values = new Map<string, string[]>();
    for (const { path, value } of fields) values.set(path[0]!, [...(values.get(path[0]!) ?? []), value]);
    const bodies = [...(values.get('Body') ?? []), current.body];
    const extra: Record<string, string> = {};
    for (const [field, list] of values) if (field !== 'Body') extra[field] = list[turn % list.length]!;
    return { ...trigger, body: bodies[turn % bodies.length], fields: { ...current.fields, ...extra } };
  }
  if (trigger.kind === 'request') {
    const parsed = hints.get(DATA_HINTS)?.parsed ?? [];
    if (parsed.length === 0) return trigger;
    const byPath = new Map<string, { path: string[]; values: string[] }>();
    for (const { path, value } of parsed) {
      const entry = byPath.get(path.join('.')) ?? { path, values: [] };
      entry.values.push(value);
      byPath.set(path.join('.'), entry);
    }
    const data: Record<string, unknown> = {
      ...((trigger as unknown as { parameters?: Record<string, unknown> }).parameters ?? {}),
    };
    for (const { path, values } of byPath.values()) {
      let here = data;
      path.slice(0, -1).forEach((key) => {
        here[key] = typeof here[key] === 'object' && here[key] !== null ? here[key] : {};
        here = here[key] as Record<string, unknown>;
      });
      // After the candidates, a turn without the field (the splits' noMatch).
      const value = values[turn % (values.length + 1)];
      if (value !== undefined) here[path.at(-1)!] = value;
    }
    return { ...trigger, parameters: data };
  }
  return trigger;
}
