/**
 * Sync v1 Documents: storage with Twilio's rules, and the REST handlers.
 *
 * Rules that callers rely on (from Twilio's Sync documentation and error codes):
 * - unique names are unique per service (54301, HTTP 409); lookups take the ET sid or the unique name;
 * - `data` is a JSON object of at most 16 KiB (54006, HTTP 413); invalid JSON is 54008;
 * - `Ttl` is 0..31,536,000 seconds (54011); 0 means no expiry; expired documents disappear;
 * - `revision` is a string that changes on every update; `If-Match` must equal it (54103, HTTP 412);
 * - a missing document is 54100 (HTTP 404);
 * - at most 20 writes per second per document, 2 per second once it holds 10 KiB or more
 *   (54009, HTTP 429); creating counts as the document's first write.
 */
import { json, type Reply } from './http-io';
import { jsonObjectParameter } from './json-values';
import { metaPage } from './paging';
import { one, type HandlerInput, type RouteTable } from './routes';
import { DEFAULT_SYNC_SERVICE_SID, isSid, newSid } from './sids';
import { isoSeconds, type Clock } from './time';
import { ErrorCode, TwilioApiError } from './twilio-errors';

export const MAX_DOCUMENT_BYTES = 16 * 1024;
export const MAX_TTL_SECONDS = 31_536_000;
/** Sync's per-object write rate: 20 per second, 2 per second for objects of 10 KiB or more. */
export const WRITES_PER_SECOND = 20;
export const LARGE_WRITES_PER_SECOND = 2;
export const LARGE_DOCUMENT_BYTES = 10 * 1024;
const WRITE_WINDOW_MS = 1000;

export interface SyncDocument {
  sid: string;
  serviceSid: string;
  accountSid: string;
  uniqueName: string | null;
  data: Record<string, unknown>;
  revision: number;
  dateCreated: number;
  dateUpdated: number;
  /** Epoch ms, or null when the document never expires. */
  dateExpires: number | null;
  /** Earlier versions, oldest first (at most HISTORY_KEPT), for checks such as "final once". */
  history: Array<{ revision: number; data: Record<string, unknown> }>;
}

/** Earlier versions kept per document (the control API's state snapshot shows them). */
const HISTORY_KEPT = 10;

export interface SyncStoreOptions {
  /** Enforce the per-document write rate (default true). */
  writeLimit?: boolean;
}

function dataBytes(data: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(data));
}

export class SyncDocumentStore {
  private readonly bySid = new Map<string, SyncDocument>();
  /** `<serviceSid>/<uniqueName>` -> sid */
  private readonly byName = new Map<string, string>();
  /** sid -> times (clock ms) of the writes within the last second. */
  private readonly recentWrites = new Map<string, number[]>();
  private readonly writeLimit: boolean;

  constructor(
    private readonly clock: Clock,
    options: SyncStoreOptions = {},
  ) {
    this.writeLimit = options.writeLimit ?? true;
  }

  /** Counts a write to `sid`, or refuses it with 54009 / 429 when the document is over its rate. */
  private admitWrite(sid: string, bytes: number): void {
    if (!this.writeLimit) return;
    const now = this.clock();
    const writes = (this.recentWrites.get(sid) ?? []).filter((at) => at > now - WRITE_WINDOW_MS && at <= now);
    const limit = bytes >= LARGE_DOCUMENT_BYTES ? LARGE_WRITES_PER_SECOND : WRITES_PER_SECOND;
    if (writes.length >= limit) {
      this.recentWrites.set(sid, writes);
      throw new TwilioApiError(
        429,
        ErrorCode.syncRateLimited,
        `Too many writes to Document ${sid}: at most ${limit} per second${limit === LARGE_WRITES_PER_SECOND ? ' for documents of 10 KiB or more' : ''}`,
      );
    }
    writes.push(now);
    this.recentWrites.set(sid, writes);
  }

  create(
    serviceSid: string,
    accountSid: string,
    uniqueName: string | null,
    data: Record<string, unknown>,
    ttl: number | undefined,
  ): SyncDocument {
    this.sweep();
    if (uniqueName !== null && this.byName.has(`${serviceSid}/${uniqueName}`)) {
      throw new TwilioApiError(409, ErrorCode.syncUniqueNameTaken, `Unique name already exists: ${uniqueName}`);
    }
    const now = this.clock();
    const sid = newSid('ET');
    this.admitWrite(sid, dataBytes(data));
    const doc: SyncDocument = {
      sid,
      serviceSid,
      accountSid,
      uniqueName,
      data,
      revision: 0,
      dateCreated: now,
      dateUpdated: now,
      dateExpires: expiryFrom(now, ttl),
      history: [],
    };
    this.bySid.set(doc.sid, doc);
    if (uniqueName !== null) this.byName.set(`${serviceSid}/${uniqueName}`, doc.sid);
    return doc;
  }

  get(serviceSid: string, sidOrName: string): SyncDocument {
    this.sweep();
    const sid = isSid(sidOrName, 'ET') ? sidOrName : this.byName.get(`${serviceSid}/${sidOrName}`);
    const doc = sid ? this.bySid.get(sid) : undefined;
    if (!doc || doc.serviceSid !== serviceSid) {
      throw new TwilioApiError(404, ErrorCode.syncDocumentNotFound, `Document not found: ${sidOrName}`);
    }
    return doc;
  }

  update(
    serviceSid: string,
    sidOrName: string,
    change: { data?: Record<string, unknown>; ttl?: number; ifMatch?: string },
  ): SyncDocument {
    const doc = this.get(serviceSid, sidOrName);
    if (change.ifMatch !== undefined && change.ifMatch !== String(doc.revision)) {
      throw new TwilioApiError(
        412,
        ErrorCode.syncRevisionMismatch,
        `The revision of the Document does not match the expected revision (expected ${change.ifMatch}, current ${doc.revision})`,
      );
    }
    this.admitWrite(doc.sid, Math.max(dataBytes(doc.data), change.data === undefined ? 0 : dataBytes(change.data)));
    const now = this.clock();
    doc.history.push({ revision: doc.revision, data: doc.data });
    if (doc.history.length > HISTORY_KEPT) doc.history.splice(0, doc.history.length - HISTORY_KEPT);
    if (change.data !== undefined) doc.data = change.data;
    if (change.ttl !== undefined) doc.dateExpires = expiryFrom(now, change.ttl);
    doc.revision += 1;
    doc.dateUpdated = now;
    return doc;
  }

  remove(serviceSid: string, sidOrName: string): void {
    const doc = this.get(serviceSid, sidOrName);
    this.delete(doc);
  }

  list(serviceSid: string): SyncDocument[] {
    this.sweep();
    return [...this.bySid.values()].filter((d) => d.serviceSid === serviceSid);
  }

  /** Every live document of every service (for the control API's state snapshot). */
  listAll(): SyncDocument[] {
    this.sweep();
    return [...this.bySid.values()];
  }

  /** Drops expired documents; run on every access and on a timer. Returns how many went. */
  sweep(): number {
    const now = this.clock();
    let removed = 0;
    for (const doc of this.bySid.values()) {
      if (doc.dateExpires !== null && doc.dateExpires <= now) {
        this.delete(doc);
        removed += 1;
      }
    }
    return removed;
  }

  clear(): void {
    this.bySid.clear();
    this.byName.clear();
    this.recentWrites.clear();
  }

  private delete(doc: SyncDocument): void {
    this.bySid.delete(doc.sid);
    this.recentWrites.delete(doc.sid);
    if (doc.uniqueName !== null) this.byName.delete(`${doc.serviceSid}/${doc.uniqueName}`);
  }
}

function expiryFrom(now: number, ttl: number | undefined): number | null {
  return ttl === undefined || ttl === 0 ? null : now + ttl * 1000;
}

// ---- request parsing --------------------------------------------------------------------------

/** `default` or an IS sid; anything else names no service. */
export function resolveServiceSid(serviceSid: string): string {
  if (serviceSid === 'default') return DEFAULT_SYNC_SERVICE_SID;
  if (isSid(serviceSid, 'IS')) return serviceSid;
  throw new TwilioApiError(404, ErrorCode.notFound, `The requested Sync Service ${serviceSid} was not found`);
}

function parseData(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  const data = jsonObjectParameter(raw, ErrorCode.syncInvalidJson, {
    notJson: "The specified 'Data' parameter is not valid JSON",
    notObject: "The 'Data' parameter must be a JSON object",
  });
  const bytes = Buffer.byteLength(JSON.stringify(data));
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new TwilioApiError(
      413,
      ErrorCode.syncEntityTooLarge,
      `Document data is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}`,
    );
  }
  return data;
}

function parseTtl(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const ttl = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || ttl > MAX_TTL_SECONDS) {
    throw new TwilioApiError(
      400,
      ErrorCode.syncInvalidTtl,
      `Invalid TTL ${raw}: must be an integer between 0 and ${MAX_TTL_SECONDS}`,
    );
  }
  return ttl;
}

// ---- rendering --------------------------------------------------------------------------------

const SYNC_BASE = 'https://sync.twilio.com/v1';

function documentsUrl(serviceSid: string): string {
  return `${SYNC_BASE}/Services/${serviceSid}/Documents`;
}

export function renderDocument(doc: SyncDocument): Record<string, unknown> {
  const url = `${documentsUrl(doc.serviceSid)}/${doc.sid}`;
  return {
    sid: doc.sid,
    unique_name: doc.uniqueName,
    account_sid: doc.accountSid,
    service_sid: doc.serviceSid,
    url,
    links: { permissions: `${url}/Permissions` },
    revision: String(doc.revision),
    data: doc.data,
    date_expires: doc.dateExpires === null ? null : isoSeconds(doc.dateExpires),
    date_created: isoSeconds(doc.dateCreated),
    date_updated: isoSeconds(doc.dateUpdated),
    created_by: 'system',
  };
}

function documentReply(status: number, doc: SyncDocument): Reply {
  return json(status, renderDocument(doc), { ETag: String(doc.revision) });
}

// ---- handlers ---------------------------------------------------------------------------------

export function syncDocumentRoutes(store: SyncDocumentStore): RouteTable {
  return {
    'sync:CreateDocument': {
      name: 'sync.documents.create',
      handle: ({ params, form, accountSid }: HandlerInput) => {
        const serviceSid = resolveServiceSid(params.ServiceSid);
        const data = parseData(one(form, 'Data')) ?? {};
        const ttl = parseTtl(one(form, 'Ttl'));
        return documentReply(201, store.create(serviceSid, accountSid, one(form, 'UniqueName') ?? null, data, ttl));
      },
    },
    'sync:FetchDocument': {
      name: 'sync.documents.fetch',
      handle: ({ params }) => documentReply(200, store.get(resolveServiceSid(params.ServiceSid), params.Sid)),
    },
    'sync:UpdateDocument': {
      name: 'sync.documents.update',
      handle: ({ params, form, headers }) => {
        const serviceSid = resolveServiceSid(params.ServiceSid);
        const ifMatch = headers['if-match'];
        const doc = store.update(serviceSid, params.Sid, {
          data: parseData(one(form, 'Data')),
          ttl: parseTtl(one(form, 'Ttl')),
          ifMatch: Array.isArray(ifMatch) ? ifMatch[0] : ifMatch,
        });
        return documentReply(200, doc);
      },
    },
    'sync:DeleteDocument': {
      name: 'sync.documents.remove',
      handle: ({ params }) => {
        store.remove(resolveServiceSid(params.ServiceSid), params.Sid);
        return json(204);
      },
    },
    'sync:ListDocument': {
      name: 'sync.documents.list',
      handle: ({ params, query }) => {
        const serviceSid = resolveServiceSid(params.ServiceSid);
        const docs = store.list(serviceSid).sort((a, b) => a.dateCreated - b.dateCreated);
        return json(
          200,
          metaPage({ key: 'documents', all: docs, render: renderDocument, base: documentsUrl(serviceSid), query }),
        );
      },
    },
  };
}
