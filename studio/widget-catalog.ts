/**
 * What Studio accepts for each widget type: its transition events, the properties it requires and
 * the JSON type of each property it knows.
 *
 * Where the facts come from (public material, checked against each other):
 * - Twilio's Studio widget library docs (one page per widget: required configuration, the
 *   transitions each widget offers, TwiML Redirect's 0..14400 s timeout);
 * - real exported flows (twilio-labs/function-templates, twilio-professional-services/
 *   flex-project-template and others): which properties exports write as strings ("timeout":
 *   "3600" on send-and-wait-for-reply and send-to-flex, "14400" on add-twiml-redirect,
 *   "priority": "0") and which as numbers ("loop": 1, gather "timeout": 5, connect-call-to
 *   "timeout": 30);
 * - the per-widget property and transition lists of a public Go SDK for Studio flows
 *   (RJPearson94/twilio-sdk-go, studio/widgets), which agree with the exports.
 *
 * Properties not listed for a widget are allowed: Studio adds new ones over time.
 */

export type PropertyKind =
  /** a JSON string */
  | 'string'
  /** a JSON string holding a whole number (or a Liquid template) - Studio rejects a JSON number */
  | 'number-string'
  /** a JSON number; a numeric string or a Liquid template is read the same way */
  | 'integer'
  /** true/false, or the strings "true"/"false" that the console writes for some widgets */
  | 'flag'
  /** [{key, value}] with string values */
  | 'key-value-list'
  /** [string, ...] */
  | 'string-list';

export interface WidgetSpec {
  events: readonly string[];
  required: readonly string[];
  /** At least one of these must be set (say-play needs something to say or play). */
  requiredOneOf?: readonly string[];
  properties: Readonly<Record<string, PropertyKind>>;
  enums?: Readonly<Record<string, readonly string[]>>;
  /** Upper bounds of number-string properties (seconds). */
  maxima?: Readonly<Record<string, number>>;
  /** Events that may appear on several transitions (the `match` branches of a split). */
  repeatableEvents?: readonly string[];
  /**
   * Each run waits on the contact (a reply, a key press, an answer, an agent). A loop through such
   * a widget is paced by a person, so the loop check only warns about it.
   */
  waitsOnContact: boolean;
}

const voicePrompt = {
  say: 'string',
  play: 'string',
  voice: 'string',
  language: 'string',
  loop: 'integer',
} as const;

const messageProps = {
  body: 'string',
  from: 'string',
  to: 'string',
  service: 'string',
  channel: 'string',
  attributes: 'string',
  media_url: 'string',
} as const;

export const WIDGETS: Readonly<Record<string, WidgetSpec>> = {
  trigger: {
    events: [
      'incomingMessage',
      'incomingCall',
      'incomingConversationMessage',
      'incomingRequest',
      'incomingParent',
    ],
    required: [],
    properties: {},
    waitsOnContact: false,
  },
  'say-play': {
    events: ['audioComplete'],
    required: [],
    requiredOneOf: ['say', 'play', 'digits'],
    properties: { ...voicePrompt, digits: 'string' },
    waitsOnContact: false,
  },
  'gather-input-on-call': {
    events: ['keypress', 'speech', 'timeout'],
    required: [],
    properties: {
      ...voicePrompt,
      finish_on_key: 'string',
      gather_language: 'string',
      hints: 'string',
      speech_model: 'string',
      speech_timeout: 'string',
      profanity_filter: 'flag',
      stop_gather: 'flag',
      number_of_digits: 'integer',
      timeout: 'integer',
    },
    waitsOnContact: true,
  },
  'split-based-on': {
    events: ['noMatch', 'match'],
    required: ['input'],
    properties: { input: 'string' },
    repeatableEvents: ['match'],
    waitsOnContact: false,
  },
  'set-variables': {
    events: ['next'],
    required: [],
    properties: { variables: 'key-value-list' },
    waitsOnContact: false,
  },
  'run-function': {
    events: ['success', 'fail'],
    required: ['url'],
    properties: {
      url: 'string',
      service_sid: 'string',
      environment_sid: 'string',
      function_sid: 'string',
      parameters: 'key-value-list',
    },
    waitsOnContact: false,
  },
  'make-http-request': {
    events: ['success', 'failed'],
    required: ['method', 'content_type', 'url'],
    properties: {
      method: 'string',
      content_type: 'string',
      url: 'string',
      body: 'string',
      parameters: 'key-value-list',
      add_twilio_auth: 'flag',
    },
    waitsOnContact: false,
  },
  'add-twiml-redirect': {
    events: ['return', 'timeout', 'fail'],
    required: ['url'],
    properties: { url: 'string', method: 'string', timeout: 'number-string' },
    enums: { method: ['GET', 'POST'] },
    maxima: { timeout: 14400 },
    waitsOnContact: false,
  },
  'send-message': {
    events: ['sent', 'failed'],
    required: ['body', 'from', 'to'],
    properties: messageProps,
    waitsOnContact: false,
  },
  'send-and-wait-for-reply': {
    events: ['incomingMessage', 'timeout', 'deliveryFailure'],
    required: ['body', 'from', 'timeout'],
    properties: { ...messageProps, timeout: 'number-string' },
    waitsOnContact: true,
  },
  'send-to-flex': {
    events: ['callComplete', 'failedToEnqueue', 'callFailure'],
    required: ['workflow', 'channel'],
    properties: {
      workflow: 'string',
      channel: 'string',
      attributes: 'string',
      priority: 'number-string',
      timeout: 'number-string',
      waitUrl: 'string',
      waitUrlMethod: 'string',
    },
    enums: { waitUrlMethod: ['GET', 'POST'] },
    waitsOnContact: true,
  },
  'connect-call-to': {
    events: ['callCompleted', 'hangup'],
    required: ['noun', 'caller_id'],
    properties: {
      noun: 'string',
      caller_id: 'string',
      to: 'string',
      sip_endpoint: 'string',
      sip_username: 'string',
      sip_password: 'string',
      timeout: 'integer',
      record: 'flag',
    },
    waitsOnContact: true,
  },
  'enqueue-call': {
    events: ['callComplete', 'failedToEnqueue', 'callFailure'],
    required: [],
    properties: {
      queue_name: 'string',
      workflow_sid: 'string',
      task_attributes: 'string',
      wait_url: 'string',
      wait_url_method: 'string',
      priority: 'integer',
      timeout: 'integer',
    },
    waitsOnContact: true,
  },
  'record-voicemail': {
    events: ['recordingComplete', 'noAudio', 'hangup'],
    required: [],
    properties: {
      timeout: 'integer',
      max_length: 'integer',
      finish_on_key: 'string',
      play_beep: 'flag',
      transcribe: 'flag',
      trim: 'string',
      recording_status_callback_url: 'string',
      transcription_callback_url: 'string',
    },
    waitsOnContact: true,
  },
  'record-call': {
    events: ['success', 'failed'],
    required: ['record_call'],
    properties: {
      record_call: 'flag',
      recording_channels: 'string',
      recording_status_callback: 'string',
      recording_status_callback_events: 'string',
      recording_status_callback_method: 'string',
      trim: 'string',
    },
    waitsOnContact: false,
  },
  'make-outgoing-call-v2': {
    events: ['answered', 'busy', 'noAnswer', 'failed'],
    required: ['from', 'to'],
    properties: {
      from: 'string',
      to: 'string',
      timeout: 'integer',
      record: 'flag',
      detect_answering_machine: 'flag',
      machine_detection: 'string',
      machine_detection_timeout: 'string',
      machine_detection_speech_threshold: 'string',
      machine_detection_speech_end_threshold: 'string',
      machine_detection_silence_timeout: 'string',
      send_digits: 'string',
      trim: 'string',
    },
    waitsOnContact: true,
  },
  'capture-payments': {
    events: [
      'success',
      'maxFailedAttempts',
      'providerError',
      'payInterrupted',
      'hangup',
      'validationError',
    ],
    required: [],
    properties: {
      currency: 'string',
      description: 'string',
      language: 'string',
      payment_amount: 'string',
      payment_connector: 'string',
      payment_method: 'string',
      payment_token_type: 'string',
      postal_code: 'string',
      max_attempts: 'integer',
      min_postal_code_length: 'integer',
      timeout: 'integer',
      security_code: 'flag',
      valid_card_types: 'string-list',
      parameters: 'key-value-list',
    },
    waitsOnContact: true,
  },
  'fork-stream': {
    events: ['next'],
    required: ['stream_action'],
    properties: {
      stream_action: 'string',
      stream_name: 'string',
      stream_url: 'string',
      stream_track: 'string',
      stream_transport_type: 'string',
      stream_connector: 'string',
      stream_parameters: 'key-value-list',
    },
    enums: { stream_action: ['start', 'stop'] },
    waitsOnContact: false,
  },
  'run-subflow': {
    events: ['completed', 'failed'],
    required: ['flow_sid', 'flow_revision'],
    properties: { flow_sid: 'string', flow_revision: 'string', parameters: 'key-value-list' },
    waitsOnContact: false,
  },
  'connect-virtual-agent': {
    events: ['return', 'hangup'],
    required: ['connector'],
    properties: {
      connector: 'string',
      language: 'string',
      sentiment_analysis: 'string',
      status_callback: 'string',
    },
    waitsOnContact: true,
  },
  /** Retired with Autopilot; still found in older exports, so still accepted. */
  'send-to-auto-pilot': {
    events: ['sessionEnded', 'failure', 'timeout'],
    required: ['autopilot_assistant_sid', 'from', 'body', 'timeout'],
    properties: {
      autopilot_assistant_sid: 'string',
      from: 'string',
      body: 'string',
      timeout: 'integer',
      target_task: 'string',
      chat_service: 'string',
      chat_channel: 'string',
      chat_attributes: 'string',
      memory_parameters: 'key-value-list',
    },
    waitsOnContact: true,
  },
};

/** Condition types of a split-based-on `match` transition. */
export const SPLIT_CONDITION_TYPES: readonly string[] = [
  'equal_to',
  'not_equal_to',
  'matches_any_of',
  'does_not_match_any_of',
  'is_blank',
  'is_not_blank',
  'regex',
  'contains',
  'does_not_contain',
  'starts_with',
  'does_not_start_with',
  'less_than',
  'greater_than',
  'is_before_time',
  'is_after_time',
  'is_before_date',
  'is_after_date',
];

/** Studio ends an execution when one widget runs this many times. */
export const STUDIO_WIDGET_RUN_LIMIT = 10;

export function widgetSpec(type: string): WidgetSpec | undefined {
  return Object.prototype.hasOwnProperty.call(WIDGETS, type) ? WIDGETS[type] : undefined;
}
