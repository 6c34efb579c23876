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

/** One list as a page is made of it. */
export type ListPage<T, R> = {
  /** The list's key in the page, e.g. `documents`. */
  key: string;
  /** The whole list, in the order it is paged. */
  all: T[];
  render: (item: T) => R;
  /** The list's URL (v1/v2: absolute) or path (2010-04-01), without a query. */
  base: string;
  query: ParamBag;
} & NextTokenSid<T>;

/** What the next page's token is made of: the item's `sid`, or `sidOf` (required for items without one). */
type NextTokenSid<T> = T extends { sid: string } ? { sidOf?: (item: T) => string } : { sidOf: (item: T) => string };

function sidOfItem<T>(list: ListPage<T, unknown>): (item: T) => string {
  return list.sidOf ?? ((item) => (item as { sid: string }).sid);
}

/** What both shapes are made of: the page asked for, its items rendered, and the links around it. */
function pageParts<T, R>(list: ListPage<T, R>) {
  const request = pageRequest(list.query);
  const { items, hasNext } = slice(list.all, request);
  const at = (page: number, token?: string) => `${list.base}?${pageQuery(list.query, request.pageSize, page, token)}`;
  return {
    ...request,
    start: request.page * request.pageSize,
    count: items.length,
    rendered: items.map(list.render),
    first: at(0),
    previous: request.page > 0 ? at(request.page - 1) : null,
    self: at(request.page),
    next: hasNext ? at(request.page + 1, nextToken(items, sidOfItem(list))) : null,
  };
}

/** The v1/v2 shape: the items and a `meta` block of absolute URLs. */
export function metaPage<T, R>(list: ListPage<T, R>): Record<string, unknown> {
  const page = pageParts(list);
  return {
    [list.key]: page.rendered,
    meta: {
      page: page.page,
      page_size: page.pageSize,
      first_page_url: page.first,
      previous_page_url: page.previous,
      url: page.self,
      next_page_url: page.next,
      key: list.key,
    },
  };
}

/** The 2010-04-01 shape: the items, their place in the list, and paths. */
export function uriPage<T, R>(list: ListPage<T, R>): Record<string, unknown> {
  const page = pageParts(list);
  return {
    [list.key]: page.rendered,
    page: page.page,
    page_size: page.pageSize,
    start: page.start,
    end: page.count > 0 ? page.start + page.count - 1 : page.start,
    uri: page.self,
    first_page_uri: page.first,
    previous_page_uri: page.previous,
    next_page_uri: page.next,
  };
}
