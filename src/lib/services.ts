import { loadConfig, type ServiceConfig } from './config';
import { PATHS } from './contracts';
import { HOLD_PARAMS } from './contracts-voice';
import { completionToken } from './backend/completion-token';
import { httpBackend } from './backend/http-backend';
import type { HandlerContext } from './http/handler';
import { serviceUrl } from './http/service-url';
import { JobService } from './jobs/job-service';
import { twilioFlowDelivery } from './messaging/flow-delivery';
import { systemClock } from './runtime/clock';
import { SyncJobStore } from './store/job-store';
import { SyncDocuments } from './store/sync-documents';
import { createTwilioClient, type TwilioClient } from './twilio/client';
import { withRetryOverrides } from './voice/hold-twiml';
import { twilioHoldVoice } from './voice/hold-voice';

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
  const store = new SyncJobStore(new SyncDocuments(client, config.syncServiceSid), config.jobTtlSeconds);
  const voice = twilioHoldVoice(client, (jobId, flowSid, status) =>
    withRetryOverrides(serviceUrl(context, PATHS.hold, { jobId, flowSid, [HOLD_PARAMS.releasedWith]: status })),
  );
  const callbackUrl = (jobId: string) =>
    serviceUrl(context, PATHS.complete, {
      jobId,
      token: config.webhookSecrets[0] ? completionToken(config.webhookSecrets[0], jobId) : undefined,
    });
  const jobs = new JobService(config, {
    store,
    voice,
    backend: httpBackend(config),
    delivery: twilioFlowDelivery(client),
    clock: systemClock,
  });
  return { config, client, jobs, callbackUrl };
}
