/**
 * What Studio knows about what started an execution: the fields of `trigger.call.*`,
 * `trigger.message.*`, `trigger.conversation.*` or `trigger.request.*`, as Twilio sends them.
 */
import { newSid } from '../../emulator/sids';
import type { ContextExtras, TriggerData } from './studio-context';
import type { CallTrigger, ConversationTrigger, FlowTrigger, MessageTrigger } from './types';

/** What Twilio puts in `trigger.call.*` for an inbound call (and sends with each voice request). */
export function callFields(trigger: CallTrigger, accountSid: string, callSid: string): Record<string, string> {
  return {
    ...voiceRequestFields(accountSid, callSid, {
      from: trigger.from ?? '+15005550006',
      to: trigger.to ?? '+15005550001',
      status: 'ringing',
      direction: 'inbound',
    }),
    FromCountry: 'US',
    FromState: 'CA',
    FromCity: 'SAN FRANCISCO',
    FromZip: '94105',
    CallerCountry: 'US',
    ToCountry: 'US',
    ToState: 'CA',
    CalledCountry: 'US',
    ...trigger.fields,
  };
}

/** What Twilio sends with each voice request of a call the flow placed (Make Outgoing Call). */
export function placedCallFields(
  accountSid: string,
  callSid: string,
  to: string,
  from: string,
): Record<string, string> {
  return voiceRequestFields(accountSid, callSid, { from, to, status: 'in-progress', direction: 'outbound-api' });
}

/** The fields Twilio sends with every voice request about a call. */
function voiceRequestFields(
  accountSid: string,
  callSid: string,
  call: { from: string; to: string; status: string; direction: string },
): Record<string, string> {
  const { from, to } = call;
  return {
    CallSid: callSid,
    AccountSid: accountSid,
    From: from,
    To: to,
    Caller: from,
    Called: to,
    CallStatus: call.status,
    Direction: call.direction,
    ApiVersion: '2010-04-01',
  };
}

function messageFields(trigger: MessageTrigger, accountSid: string): Record<string, string> {
  return {
    MessageSid: newSid('SM'),
    SmsSid: '',
    AccountSid: accountSid,
    From: trigger.from ?? '+15005550006',
    To: trigger.to ?? '+15005550001',
    Body: trigger.body,
    NumMedia: '0',
    NumSegments: '1',
    SmsStatus: 'received',
    ApiVersion: '2010-04-01',
    FromCountry: 'US',
    ToCountry: 'US',
    ...trigger.fields,
  };
}

/** What Studio puts in `trigger.conversation.*` for a message in a Conversation (the plain reading of the docs). */
function conversationFields(trigger: ConversationTrigger, accountSid: string): Record<string, string> {
  return {
    ConversationSid: newSid('CH'),
    MessageSid: newSid('IM'),
    ParticipantSid: newSid('MB'),
    AccountSid: accountSid,
    Author: trigger.author ?? '+15005550006',
    Body: trigger.body,
    Source: 'SMS',
    EventType: 'onMessageAdded',
    ...trigger.fields,
  };
}

/** The trigger an execution starts on: a subflow run on its own gets its parent's (a call unless told otherwise). */
export function startingTrigger(trigger: FlowTrigger): Exclude<FlowTrigger, { kind: 'parent' }> {
  return trigger.kind === 'parent' ? (trigger.via ?? { kind: 'call' }) : trigger;
}

/** The trigger's fields, and what else the context carries (`flow.data`, `trigger.parent.parameters`). */
export function triggerData(
  trigger: FlowTrigger,
  ids: { accountSid: string; flowSid: string; callSid?: string },
): { data: TriggerData; extras: ContextExtras } {
  const base = startingTrigger(trigger);
  const { accountSid, flowSid } = ids;
  const extras: ContextExtras = {};
  let data: TriggerData;
  switch (base.kind) {
    case 'call':
      data = { kind: 'call', call: callFields(base, accountSid, ids.callSid!) };
      break;
    case 'message':
      data = { kind: 'message', message: messageFields(base, accountSid) };
      break;
    case 'conversation':
      data = { kind: 'conversation', conversation: conversationFields(base, accountSid) };
      break;
    case 'request':
      data = {
        kind: 'request',
        request: {
          To: base.to ?? '+15005550006',
          From: base.from ?? '+15005550001',
          AccountSid: accountSid,
          FlowSid: flowSid,
        },
      };
      extras.data = base.parameters ?? {};
      break;
  }
  if (trigger.kind === 'parent') extras.parentParameters = trigger.parameters ?? {};
  return { data, extras };
}
