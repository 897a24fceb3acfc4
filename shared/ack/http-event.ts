// The acknowledgement page's HTTP edge: an API Gateway HTTP API (payload format 2.0) or Lambda
// function URL event in, validated; a page out in the shape both expect.

import * as z from '../domain/zod.ts';
import type { Page } from './page.ts';
import type { AckRequest } from './respond.ts';

const httpEvent = z.object({
  rawPath: z.string(),
  /** The route's `{token}`; absent behind a function URL, where the path's last segment is used. */
  pathParameters: z.optional(z.object({ token: z.optional(z.string()) })),
  requestContext: z.object({ http: z.object({ method: z.string() }) }),
  headers: z.optional(z.record(z.string(), z.string())),
  body: z.optional(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
});

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

/** The request an event carries, or undefined when it is not an HTTP event at all. */
export function requestFromEvent(event: unknown): AckRequest | undefined {
  const parsed = httpEvent.safeParse(event);
  if (!parsed.success) return undefined;
  const { rawPath, pathParameters, requestContext, headers = {}, body, isBase64Encoded } = parsed.data;
  // A custom domain's mapping key (say `/a`) may stay in rawPath: the token is always the last segment.
  const token = pathParameters?.token ?? rawPath.split('/').filter(Boolean).at(-1) ?? '';
  const fetchSite = Object.entries(headers).find(([name]) => name.toLowerCase() === 'sec-fetch-site')?.[1];
  return {
    method: requestContext.http.method,
    token,
    ...(body !== undefined
      ? { body: isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body }
      : {}),
    ...(fetchSite !== undefined ? { fetchSite } : {}),
  };
}

export const httpResult = (page: Page): HttpResult => ({ ...page, isBase64Encoded: false });
