import type { JobRecord, ResultChunks, VersionedJob } from '../jobs/job';
import type { CreateOutcome, JobStore } from '../jobs/ports';
import { SyncDocuments, UniqueNameTakenError } from './sync-documents';

/** Largest result (JSON bytes) kept inside the job document; larger ones go to chunk documents. */
export const INLINE_RESULT_BYTES = 12 * 1024;
/** Bytes of chunk text per chunk document, after JSON escaping; Sync's limit is 16 KiB of data. */
export const CHUNK_BYTES = 15 * 1024;

export const jobDocumentName = (jobId: string) => `job_${jobId}`;

interface ChunkDocument {
  part: string;
}

/**
 * Splits text into pieces whose JSON-escaped form stays within maxBytes, never inside a
 * surrogate pair, so every piece is valid on its own and the pieces join back exactly.
 */
export function splitForDocuments(text: string, maxBytes: number): string[] {
  const parts: string[] = [];
  let current = '';
  let currentBytes = 0;
  for (const char of text) {
    const bytes = Buffer.byteLength(JSON.stringify(char)) - 2;
    if (currentBytes + bytes > maxBytes && current !== '') {
      parts.push(current);
      current = '';
      currentBytes = 0;
    }
    current += char;
    currentBytes += bytes;
  }
  if (current !== '' || parts.length === 0) parts.push(current);
  return parts;
}

/** The job store on Sync: one document per job, revisions guarding every change. */
export class SyncJobStore implements JobStore {
  constructor(
    private readonly documents: SyncDocuments,
    private readonly ttlSeconds: number,
  ) {}

  /** Creates the job, or returns the one already under that id (idempotent start). */
  async create(job: JobRecord): Promise<CreateOutcome> {
    try {
      const stored = await this.documents.create(jobDocumentName(job.jobId), job, this.ttlSeconds);
      return { created: true, current: { job: stored.data, revision: stored.revision } };
    } catch (error) {
      if (!(error instanceof UniqueNameTakenError)) throw error;
      const existing = await this.get(job.jobId);
      // Taken but gone: it expired between the two calls; creating again is safe.
      if (!existing) return this.create(job);
      // Taken by our own create, whose reply was lost before a retry: we did create it.
      const ours = job.createId !== undefined && existing.job.createId === job.createId;
      return { created: ours, current: existing };
    }
  }

  async get(jobId: string): Promise<VersionedJob | undefined> {
    const stored = await this.documents.fetch<JobRecord>(jobDocumentName(jobId));
    return stored && { job: stored.data, revision: stored.revision };
  }

  /** Writes `next` if the job is still at `current.revision`. */
  async replace(current: VersionedJob, next: JobRecord): Promise<VersionedJob | 'conflict'> {
    const stored = await this.documents.replace(jobDocumentName(next.jobId), next, current.revision);
    return stored === 'conflict' ? 'conflict' : { job: stored.data, revision: stored.revision };
  }

  /** True when the result must go to chunk documents. */
  needsChunks(resultJson: string): boolean {
    return Buffer.byteLength(resultJson) > INLINE_RESULT_BYTES;
  }

  /**
   * Writes a large result as chunk documents named after this attempt, so two racing
   * completions never write the same documents; the loser's chunks simply expire.
   */
  async writeResultChunks(jobId: string, resultJson: string, attempt: string): Promise<ResultChunks> {
    const prefix = `${jobDocumentName(jobId)}_r${attempt}`;
    const parts = splitForDocuments(resultJson, CHUNK_BYTES);
    await Promise.all(parts.map((part, index) => this.createChunk(`${prefix}_${index}`, part)));
    return { prefix, count: parts.length, bytes: Buffer.byteLength(resultJson) };
  }

  /** Chunk names are unique to one attempt: a name already taken holds our own part (a retried create whose reply was lost). */
  private async createChunk(name: string, part: string): Promise<void> {
    try {
      await this.documents.create<ChunkDocument>(name, { part }, this.ttlSeconds);
    } catch (error) {
      if (!(error instanceof UniqueNameTakenError)) throw error;
      const existing = await this.documents.fetch<ChunkDocument>(name);
      if (existing?.data.part !== part)
        throw new Error(`result chunk ${name} exists with other content`, { cause: error });
    }
  }

  /** The job's result object, reading chunk documents when it has them. */
  async readResult(job: JobRecord): Promise<Record<string, unknown> | undefined> {
    if (job.result) return job.result;
    const chunks = job.resultChunks;
    if (!chunks) return undefined;
    const parts = await Promise.all(
      Array.from({ length: chunks.count }, (_, index) =>
        this.documents.fetch<ChunkDocument>(`${chunks.prefix}_${index}`),
      ),
    );
    if (parts.some((part) => part === undefined)) {
      throw new Error(`result chunks of job ${job.jobId} are missing (expired?)`);
    }
    return JSON.parse(parts.map((part) => part!.data.part).join('')) as Record<string, unknown>;
  }
}
