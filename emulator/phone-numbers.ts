/**
 * IncomingPhoneNumbers (Api 2010-04-01): the account's numbers and where they send calls. Enough
 * for `npm run deploy:flows -- --number +1...` to find a number by PhoneNumber and point its
 * voice URL and call-status callback at a flow: Create (a rehearsal starts with the number the
 * user named), List with the PhoneNumber/FriendlyName filters, Fetch, Update, Delete. Requests and
 * replies are checked against twilio_api_v2010.json by the server's pipeline like every other.
 */
import { json } from './http-io';
import type { ParamBag } from './openapi';
import { uriPage } from './paging';
import { one, type RouteTable } from './routes';
import { newSid } from './sids';
import { rfc2822, type Clock } from './time';
import { ErrorCode, TwilioApiError } from './twilio-errors';

const API_VERSION = '2010-04-01';
const E164 = /^\+[1-9]\d{6,14}$/;

export interface PhoneNumber {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: string;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: string;
  statusCallback: string | null;
  statusCallbackMethod: string;
  smsUrl: string | null;
  smsMethod: string;
  dateCreated: number;
  dateUpdated: number;
}

/** Form fields Update and Create take, and the number's field each sets. */
const SETTABLE: Array<[string, keyof PhoneNumber]> = [
  ['FriendlyName', 'friendlyName'],
  ['VoiceUrl', 'voiceUrl'],
  ['VoiceMethod', 'voiceMethod'],
  ['VoiceFallbackUrl', 'voiceFallbackUrl'],
  ['VoiceFallbackMethod', 'voiceFallbackMethod'],
  ['StatusCallback', 'statusCallback'],
  ['StatusCallbackMethod', 'statusCallbackMethod'],
  ['SmsUrl', 'smsUrl'],
  ['SmsMethod', 'smsMethod'],
];

/** `+14155550100` -> `(415) 555-0100`, as Twilio names a North American number by default. */
function defaultFriendlyName(number: string): string {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : number;
}

export class PhoneNumberStore {
  private readonly numbers = new Map<string, PhoneNumber>();

  constructor(private readonly clock: Clock) {}

  create(accountSid: string, form: ParamBag): PhoneNumber {
    const phoneNumber = one(form, 'PhoneNumber');
    if (!phoneNumber)
      throw new TwilioApiError(400, 21421, 'PhoneNumber or AreaCode is required (the emulator takes PhoneNumber only)');
    if (!E164.test(phoneNumber)) throw new TwilioApiError(400, 21421, `PhoneNumber is invalid: ${phoneNumber}`);
    if ([...this.numbers.values()].some((n) => n.accountSid === accountSid && n.phoneNumber === phoneNumber)) {
      throw new TwilioApiError(400, 21422, `PhoneNumber ${phoneNumber} is already on this account`);
    }
    const now = this.clock();
    const number: PhoneNumber = {
      sid: newSid('PN'),
      accountSid,
      phoneNumber,
      friendlyName: defaultFriendlyName(phoneNumber),
      voiceUrl: null,
      voiceMethod: 'POST',
      voiceFallbackUrl: null,
      voiceFallbackMethod: 'POST',
      statusCallback: null,
      statusCallbackMethod: 'POST',
      smsUrl: null,
      smsMethod: 'POST',
      dateCreated: now,
      dateUpdated: now,
    };
    this.apply(number, form);
    this.numbers.set(number.sid, number);
    return number;
  }

  update(accountSid: string, sid: string, form: ParamBag): PhoneNumber {
    const number = this.get(accountSid, sid);
    this.apply(number, form);
    number.dateUpdated = this.clock();
    return number;
  }

  get(accountSid: string, sid: string): PhoneNumber {
    const number = this.numbers.get(sid);
    if (!number || number.accountSid !== accountSid) {
      throw new TwilioApiError(
        404,
        ErrorCode.notFound,
        `The requested resource /${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers/${sid}.json was not found`,
      );
    }
    return number;
  }

  remove(accountSid: string, sid: string): void {
    this.get(accountSid, sid);
    this.numbers.delete(sid);
  }

  list(accountSid: string, query: ParamBag): PhoneNumber[] {
    const phoneNumber = one(query, 'PhoneNumber');
    const friendlyName = one(query, 'FriendlyName');
    return [...this.numbers.values()].filter(
      (n) =>
        n.accountSid === accountSid &&
        (!phoneNumber || n.phoneNumber.includes(phoneNumber)) &&
        (!friendlyName || n.friendlyName === friendlyName),
    );
  }

  clear(): void {
    this.numbers.clear();
  }

  private apply(number: PhoneNumber, form: ParamBag): void {
    const record = number as unknown as Record<string, string | null>;
    for (const [param, field] of SETTABLE) {
      const value = one(form, param);
      if (value === undefined) continue;
      // An empty URL clears it, as on Twilio.
      record[field] = value === '' && /Url|Callback$/.test(param) ? null : value;
    }
  }
}

function render(number: PhoneNumber): Record<string, unknown> {
  return {
    account_sid: number.accountSid,
    address_sid: null,
    address_requirements: 'none',
    api_version: API_VERSION,
    beta: false,
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    date_created: rfc2822(number.dateCreated),
    date_updated: rfc2822(number.dateUpdated),
    friendly_name: number.friendlyName,
    identity_sid: null,
    phone_number: number.phoneNumber,
    origin: 'twilio',
    sid: number.sid,
    sms_application_sid: null,
    sms_fallback_method: 'POST',
    sms_fallback_url: null,
    sms_method: number.smsMethod,
    sms_url: number.smsUrl,
    status_callback: number.statusCallback,
    status_callback_method: number.statusCallbackMethod,
    trunk_sid: null,
    uri: `/${API_VERSION}/Accounts/${number.accountSid}/IncomingPhoneNumbers/${number.sid}.json`,
    voice_receive_mode: 'voice',
    voice_application_sid: null,
    voice_caller_id_lookup: false,
    voice_fallback_method: number.voiceFallbackMethod,
    voice_fallback_url: number.voiceFallbackUrl,
    voice_method: number.voiceMethod,
    voice_url: number.voiceUrl,
    emergency_status: 'Inactive',
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    bundle_sid: null,
    status: 'in-use',
  };
}

export function phoneNumberRoutes(store: PhoneNumberStore): RouteTable {
  const base = (accountSid: string) => `/${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers.json`;
  return {
    'api:CreateIncomingPhoneNumber': {
      name: 'api.incomingPhoneNumbers.create',
      handle: ({ accountSid, form }) => json(201, render(store.create(accountSid, form))),
    },
    'api:ListIncomingPhoneNumber': {
      name: 'api.incomingPhoneNumbers.list',
      handle: ({ accountSid, query }) =>
        json(
          200,
          uriPage({
            key: 'incoming_phone_numbers',
            all: store.list(accountSid, query),
            render,
            base: base(accountSid),
            query,
          }),
        ),
    },
    'api:FetchIncomingPhoneNumber': {
      name: 'api.incomingPhoneNumbers.fetch',
      handle: ({ accountSid, params }) => json(200, render(store.get(accountSid, params.Sid))),
    },
    'api:UpdateIncomingPhoneNumber': {
      name: 'api.incomingPhoneNumbers.update',
      handle: ({ accountSid, params, form }) => json(200, render(store.update(accountSid, params.Sid, form))),
    },
    'api:DeleteIncomingPhoneNumber': {
      name: 'api.incomingPhoneNumbers.remove',
      handle: ({ accountSid, params }) => {
        store.remove(accountSid, params.Sid);
        return json(204);
      },
    },
  };
}
