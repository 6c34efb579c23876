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
 * - Studio's flow definition JSON schemas (twilio.com/docs/studio/rest-api/v2/schemas), which the
 *   Flows REST API validates definitions against (error 81022, "Flow definition validation
 *   failed": properties that do not match the schema, names that are not unique, transitions to
 *   widgets that do not exist);
 * - Studio's FAQ (twilio.com/docs/studio/user-guide/studio-faq): an execution stops when the same
 *   widget runs 10 times in a row, and after 1,000 steps (warnings 81001 and 81000, not refusals;
 *   the figures are in studio/platform.ts).
 *
 * Properties not listed for a widget are allowed: Studio adds new ones over time. Where a widget's
 * events are only partly known (`eventsKnown: 'partial'`), the checker says so when it meets
 * another one.
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
  /**
   * Properties required only when another property has a given value (a Content Template message
   * needs its `content_sid`).
   */
  requiredWhen?: readonly { property: string; when: string; equals: string }[];
  /**
   * 'documented' (default): the events are those of Twilio's widget page and of real exports.
   * 'partial': the widget is newer or rarer, and its events are known only in part.
   */
  eventsKnown?: 'documented' | 'partial';
}

const voicePrompt = {
  say: 'string',
  play: 'string',
  voice: 'string',
  language: 'string',
  loop: 'integer',
} as const;

/**
 * Send Message and Send & Wait for Reply. A message is either free text (`body`) or a Content
 * Template (`content_sid`, with `content_variables` filling its placeholders, and `message_type`
 * "content_template"), as WhatsApp needs outside its 24-hour session. Sources: Twilio's Send
 * Message and Send & Wait For Reply widget pages; Content API "Send templates created with the
 * Content Template Builder" (ContentSid replaces Body); exports (`message_type` appears in
 * hls-outreach-* and flex-project-template flows).
 */
const messageProps = {
  body: 'string',
  from: 'string',
  to: 'string',
  service: 'string',
  channel: 'string',
  attributes: 'string',
  media_url: 'string',
  message_type: 'string',
  content_sid: 'string',
  content_variables: 'key-value-list',
  messaging_service_sid: 'string',
  save_response_as: 'string',
} as const;

/** What both Make Outgoing Call widgets (v2 and the older v1) have. */
const outgoingCall = {
  events: ['answered', 'busy', 'noAnswer', 'failed'],
  required: ['from', 'to'],
  properties: { from: 'string', to: 'string', timeout: 'integer', record: 'flag', detect_answering_machine: 'flag' },
  waitsOnContact: true,
} as const;

const MESSAGE_TEXT = ['body', 'content_sid'] as const;
const CONTENT_TEMPLATE = [{ property: 'content_sid', when: 'message_type', equals: 'content_template' }] as const;

export const WIDGETS: Readonly<Record<string, WidgetSpec>> = {
  /**
   * Trigger events: Incoming Message, Incoming Call, Incoming Conversation (Conversations, Flex UI
   * 2.0), REST API, and Subflow (a flow run by Run Subflow). Sources: Twilio's Trigger (Start) and
   * Send to Flex widget pages; exports from flex-project-template (incomingConversationMessage)
   * and twilio-labs/sample-flows-github-actions (incomingParent).
   */
  trigger: {
    events: ['incomingMessage', 'incomingCall', 'incomingConversationMessage', 'incomingRequest', 'incomingParent'],
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
      save_response_as: 'string',
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
    required: ['from', 'to'],
    requiredOneOf: MESSAGE_TEXT,
    requiredWhen: CONTENT_TEMPLATE,
    properties: messageProps,
    waitsOnContact: false,
  },
  'send-and-wait-for-reply': {
    events: ['incomingMessage', 'timeout', 'deliveryFailure'],
    required: ['from', 'timeout'],
    requiredOneOf: MESSAGE_TEXT,
    requiredWhen: CONTENT_TEMPLATE,
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
  /**
   * `caller_id` is not required: the widget page gives it a default (the caller's own number), and
   * the widget schema requires only `noun`.
   */
  'connect-call-to': {
    events: ['callCompleted', 'hangup'],
    required: ['noun'],
    properties: {
      noun: 'string',
      caller_id: 'string',
      to: 'string',
      sip_endpoint: 'string',
      sip_username: 'string',
      sip_password: 'string',
      timeout: 'integer',
      time_limit: 'integer',
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
    ...outgoingCall,
    properties: {
      ...outgoingCall.properties,
      machine_detection: 'string',
      machine_detection_timeout: 'string',
      machine_detection_speech_threshold: 'string',
      machine_detection_speech_end_threshold: 'string',
      machine_detection_silence_timeout: 'string',
      send_digits: 'string',
      trim: 'string',
      recording_channels: 'string',
      recording_status_callback: 'string',
      sip_auth_username: 'string',
      sip_auth_password: 'string',
    },
  },
  /**
   * The first Make Outgoing Call widget, still found in older flows. Its events beyond those of
   * v2 are not documented any more. Source: Studio's widget schemas list both -v1 and -v2.
   */
  'make-outgoing-call-v1': {
    ...outgoingCall,
    properties: { ...outgoingCall.properties, send_digits: 'string' },
    eventsKnown: 'partial',
  },
  'capture-payments': {
    events: ['success', 'maxFailedAttempts', 'providerError', 'payInterrupted', 'hangup', 'validationError'],
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
      bank_account_type: 'string',
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
      stream_connector_name: 'string',
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
  /** The first Connect Virtual Agent widget (voice only). */
  'connect-virtual-agent': {
    events: ['return', 'hangup'],
    required: ['connector'],
    properties: {
      connector: 'string',
      language: 'string',
      sentiment_analysis: 'string',
      status_callback: 'string',
    },
    eventsKnown: 'partial',
    waitsOnContact: true,
  },
  /**
   * Connect Virtual Agent as the widget library offers it now: a voice call or a Conversation to a
   * Dialogflow CX agent, starting a new session (`connector_name`) or resuming a paused one, so no
   * single property is always required. Its transitions on Twilio's widget page: Completed, Live
   * Agent Handoff, Hangup, Failed (plus paused and timeout for sessions that pause); their JSON
   * names are known only in part. Source: twilio.com/docs/studio/widget-library/connect-virtual-agent
   * and .../connect-virtual-agent-flex.
   */
  'connect-virtual-agent-v2': {
    events: ['completed', 'live-agent-handoff', 'hangup', 'failed', 'paused', 'timeout'],
    required: [],
    properties: {
      channel: 'string',
      connector_name: 'string',
      session_behavior: 'string',
      resume_session_identification_method: 'string',
      resume_session_identification_value: 'string',
      resume_session_event_name: 'string',
      status_callback: 'string',
      status_callback_method: 'string',
      timeout: 'integer',
      parameters: 'key-value-list',
      configurations: 'key-value-list',
    },
    enums: { status_callback_method: ['GET', 'POST'] },
    eventsKnown: 'partial',
    waitsOnContact: true,
  },
  /**
   * Start Conversation: an outbound (REST API) execution opens a Conversation and makes it the
   * execution's channel; it moves on Failed when the execution already has a channel. Its other
   * transition's JSON name is not known. Source: twilio.com/docs/studio/widget-library/start-conversation.
   */
  'start-conversation': {
    events: ['created', 'failed'],
    required: [],
    properties: {
      conversation_service_sid: 'string',
      friendly_name: 'string',
      attributes: 'string',
      messaging_service_sid: 'string',
    },
    eventsKnown: 'partial',
    waitsOnContact: false,
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

export function widgetSpec(type: string): WidgetSpec | undefined {
  return Object.prototype.hasOwnProperty.call(WIDGETS, type) ? WIDGETS[type] : undefined;
}
