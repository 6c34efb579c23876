/**
 * What the probe endpoint received, read back from the Sync Documents it wrote (one per request,
 * named `<run prefix><probe>_<step>_...`). Polled, since a real account can only be watched that way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { VerifyClient } from './client';

export interface ProbeEvent {
  /** When the endpoint received it (epoch ms, the endpoint's clock). */
  at: number;
  probe: string;
  step: string;
  /** The request's parameters (query and body), as the function saw them. */
  params: Record<string, string>;
  /** The document's SID (for cleanup; never recorded). */
  documentSid: string;
}

export async function listRunDocuments(
  client: VerifyClient,
  prefix: string,
): Promise<Array<{ sid: string; uniqueName: string; data: unknown }>> {
  const documents = await client.sync.v1.services('default').documents.list({ pageSize: 100 });
  return documents
    .filter((doc) => typeof doc.uniqueName === 'string' && doc.uniqueName.startsWith(prefix))
    .map((doc) => ({ sid: doc.sid, uniqueName: doc.uniqueName, data: doc.data }));
}

export async function readEvents(client: VerifyClient, prefix: string, probe: string): Promise<ProbeEvent[]> {
  const documents = await listRunDocuments(client, `${prefix}${probe}_`);
  return documents
    .map((doc) => {
      const data = (doc.data ?? {}) as { at?: number; step?: string; params?: Record<string, string> };
      return {
        at: Number(data.at ?? 0),
        probe,
        step: String(data.step ?? ''),
        params: data.params ?? {},
        documentSid: doc.sid,
      };
    })
    .sort((a, b) => a.at - b.at || Number(a.params.SequenceNumber ?? 0) - Number(b.params.SequenceNumber ?? 0));
}

/** Deletes every document of the run (the cleanup step for the endpoint's writes). */
export async function deleteRunDocuments(client: VerifyClient, prefix: string): Promise<number> {
  const documents = await listRunDocuments(client, prefix);
  for (const doc of documents) {
    await client.sync.v1
      .services('default')
      .documents(doc.sid)
      .remove()
      .catch((error: { status?: number }) => {
        if (error.status !== 404) throw error;
      });
  }
  return documents.length;
}

export class EventWatch {
  constructor(
    private readonly client: VerifyClient,
    private readonly prefix: string,
    private readonly probe: string,
    private readonly pollMs: number,
    private readonly signal: AbortSignal,
  ) {}

  all(): Promise<ProbeEvent[]> {
    return readEvents(this.client, this.prefix, this.probe);
  }

  /** The first event matching `match`, or undefined after `timeoutMs`. */
  async waitFor(match: (event: ProbeEvent) => boolean, timeoutMs: number): Promise<ProbeEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.signal.aborted) throw new Error('interrupted');
      const found = (await this.all()).find(match);
      if (found) return found;
      if (Date.now() >= deadline) return undefined;
      await sleep(Math.min(this.pollMs, Math.max(0, deadline - Date.now())));
    }
  }
}

export const isConf = (name: string, room?: string) => (event: ProbeEvent) =>
  event.step === 'conf' &&
  event.params.StatusCallbackEvent === name &&
  (room === undefined || event.params.FriendlyName === room);
