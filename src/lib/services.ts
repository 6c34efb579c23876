import { loadConfig, type ServiceConfig } from './config';
import type { HandlerContext } from './http/handler';
import { JobService } from './jobs/job-service';
import { JobStore } from './store/job-store';
import { SyncDocuments } from './store/sync-documents';
import { createTwilioClient, type TwilioClient } from './twilio-client';

export interface Services {
  config: ServiceConfig;
  client: TwilioClient;
  jobs: JobService;
}

/** Wires one request's services from the function context (the runtime's environment). */
export function servicesFor(context: HandlerContext): Services {
  const config = loadConfig(context);
  const client = createTwilioClient(config);
  const store = new JobStore(new SyncDocuments(client, config.syncServiceSid), config.jobTtlSeconds);
  return { config, client, jobs: new JobService(config, store, client) };
}
