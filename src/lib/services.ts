import { loadConfig, type ServiceConfig } from './config';
import { PATHS } from './contracts';
import { completionToken } from './backend/completion-token';
import type { HandlerContext } from './http/handler';
import { serviceUrl } from './http/service-url';
import { JobService } from './jobs/job-service';
import { twilioFlowDelivery } from './messaging/flow-delivery';
import { JobStore } from './store/job-store';
import { SyncDocuments } from './store/sync-documents';
import { createTwilioClient, type TwilioClient } from './twilio-client';
import { withRetryOverrides } from './voice/hold-twiml';
import { twilioHoldVoice } from './voice/hold-voice';
import { HOLD_PARAMS } from './voice/hold-request';

export interface Services {
  config: ServiceConfig;
  client: TwilioClient;
  jobs: JobService;
  /** The job's capability URL for its completion (the dispatch's callbackUrl). */
  callbackUrl(jobId: string): string;
}

/** Wires one request's services from the function context (the runtime's environment). */
export function servicesFor(context: HandlerContext): Services {
  const config = loadConfig(context);
  const client = createTwilioClient(config);
  const store = new JobStore(new SyncDocuments(client, config.syncServiceSid), config.jobTtlSeconds);
  const voice = twilioHoldVoice(client, (jobId, flowSid, status) =>
    withRetryOverrides(serviceUrl(context, PATHS.hold, { jobId, flowSid, [HOLD_PARAMS.releasedWith]: status })),
  );
  const callbackUrl = (jobId: string) =>
    serviceUrl(context, PATHS.complete, { jobId, token: config.webhookSecrets[0] ? completionToken(config.webhookSecrets[0], jobId) : undefined });
  return { config, client, jobs: new JobService(config, store, voice, twilioFlowDelivery(client)), callbackUrl };
}
