/**
 * Twilio's two list-page shapes.
 *   v1/v2 APIs (Sync, Studio): `{<key>: [...], meta: {page, page_size, first_page_url, previous_page_url,
 *     url, next_page_url, key}}` with absolute URLs;
 *   2010-04-01 API: `{<key>: [...], page, page_size, start, end, uri, first_page_uri, next_page_uri,
 *     previous_page_uri}` with paths.
 * The twilio helper follows `next_page_url` as it is and prefixes `next_page_uri` with the API host.
 */
import { one } from './routes';
import type { ParamBag } from './openapi';

const PAGING_PARAMS = new Set(['Page', 'PageSize', 'PageToken']);

export interface PageRequest {
  page: number;
  pageSize: number;
}

export function pageRequest(query: ParamBag, defaultSize = 50): PageRequest {
  const page = Number(one(query, 'Page') ?? '0');
  const pageSize = Number(one(query, 'PageSize') ?? String(defaultSize));
  return { page: Number.isInteger(page) && page >= 0 ? page : 0, pageSize: pageSize > 0 ? pageSize : defaultSize };
}

function pageQuery(query: ParamBag, pageSize: number, page: number, token?: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (PAGING_PARAMS.has(key) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  params.set('PageSize', String(pageSize));
  params.set('Page', String(page));
  if (token) params.set('PageToken', token);
  return params.toString();
}

function slice<T>(items: T[], request: PageRequest): { items: T[]; hasNext: boolean } {
  const start = request.page * request.pageSize;
  return { items: items.slice(start, start + request.pageSize), hasNext: items.length > start + request.pageSize };
}

/** Token for the next page: Twilio's look like `PA` + the last sid; the emulator only echoes them. */
function nextToken<T>(items: T[], sidOf: (item: T) => string): string {
  const last = items[items.length - 1];
  return last ? `PA${sidOf(last)}` : 'PA';
}

export function metaPage<T, R>(
  key: string,
  all: T[],
  render: (item: T) => R,
  sidOf: (item: T) => string,
  baseUrl: string,
  query: ParamBag,
): Record<string, unknown> {
  const request = pageRequest(query);
  const { items, hasNext } = slice(all, request);
  const at = (page: number, token?: string) => `${baseUrl}?${pageQuery(query, request.pageSize, page, token)}`;
  return {
    [key]: items.map(render),
    meta: {
      page: request.page,
      page_size: request.pageSize,
      first_page_url: at(0),
      previous_page_url: request.page > 0 ? at(request.page - 1) : null,
      url: at(request.page),
      next_page_url: hasNext ? at(request.page + 1, nextToken(items, sidOf)) : null,
      key,
    },
  };
}

export function uriPage<T, R>(
  key: string,
  all: T[],
  render: (item: T) => R,
  sidOf: (item: T) => string,
  basePath: string,
  query: ParamBag,
): Record<string, unknown> {
  const request = pageRequest(query);
  const { items, hasNext } = slice(all, request);
  const at = (page: number, token?: string) => `${basePath}?${pageQuery(query, request.pageSize, page, token)}`;
  const start = request.page * request.pageSize;
  return {
    [key]: items.map(render),
    page: request.page,
    page_size: request.pageSize,
    start,
    end: items.length > 0 ? start + items.length - 1 : start,
    uri: at(request.page),
    first_page_uri: at(0),
    previous_page_uri: request.page > 0 ? at(request.page - 1) : null,
    next_page_uri: hasNext ? at(request.page + 1, nextToken(items, sidOf)) : null,
  };
}
