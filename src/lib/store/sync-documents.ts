import type { TwilioClient } from '../twilio/client';
import { hasTwilioCode } from '../twilio/errors';
import { withTwilioRetry } from '../twilio/retry';

/**
 * Sync error codes we act on (rate limits, 54009, are recognised by their HTTP 429). The
 * emulator keeps its own table of the same codes (emulator/twilio-errors.ts) on purpose: it is a
 * witness of Twilio's documented behaviour, and sharing one table would let a wrong code agree
 * with itself.
 */
export const SYNC_ERRORS = {
  notFound: 54100,
  revisionMismatch: 54103,
  uniqueNameTaken: 54301,
} as const;

export interface StoredDocument<T> {
  data: T;
  revision: string;
}

export class UniqueNameTakenError extends Error {}

/** The three Sync Document operations the job store needs, with Twilio's errors turned into values. */
export class SyncDocuments {
  constructor(
    private readonly client: TwilioClient,
    private readonly serviceSid: string,
  ) {}

  private documents() {
    return this.client.sync.v1.services(this.serviceSid).documents;
  }

  /** Creates a document; throws UniqueNameTakenError when the name exists (54301). */
  async create<T extends object>(uniqueName: string, data: T, ttlSeconds: number): Promise<StoredDocument<T>> {
    try {
      const doc = await withTwilioRetry(() => this.documents().create({ uniqueName, data, ttl: ttlSeconds }));
      return { data: doc.data as T, revision: doc.revision };
    } catch (error) {
      if (hasTwilioCode(error, SYNC_ERRORS.uniqueNameTaken)) throw new UniqueNameTakenError(uniqueName);
      throw error;
    }
  }

  /** The document, or undefined when it does not exist (or has expired). */
  async fetch<T>(uniqueName: string): Promise<StoredDocument<T> | undefined> {
    try {
      const doc = await withTwilioRetry(() => this.documents()(uniqueName).fetch());
      return { data: doc.data as T, revision: doc.revision };
    } catch (error) {
      if (hasTwilioCode(error, SYNC_ERRORS.notFound)) return undefined;
      throw error;
    }
  }

  /** Replaces the data if the document is still at `revision`; 'conflict' when someone wrote first. */
  async replace<T extends object>(
    uniqueName: string,
    data: T,
    revision: string,
  ): Promise<StoredDocument<T> | 'conflict'> {
    try {
      const doc = await withTwilioRetry(() => this.documents()(uniqueName).update({ data, ifMatch: revision }));
      return { data: doc.data as T, revision: doc.revision };
    } catch (error) {
      if (hasTwilioCode(error, SYNC_ERRORS.revisionMismatch)) return 'conflict';
      throw error;
    }
  }
}
