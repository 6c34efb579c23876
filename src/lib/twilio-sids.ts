/** Shapes of the Twilio SIDs the service accepts from requests and settings. */
export const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
export const FLOW_SID = /^FW[0-9a-fA-F]{32}$/;
export const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
