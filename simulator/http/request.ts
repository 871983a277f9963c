import type { IncomingMessage } from 'node:http';

export interface ParsedRequest {
  readonly method: string;
  readonly path: string;
  /** The raw query string (without `?`) and form body, as signed by the client. */
  readonly rawQuery: string;
  readonly rawBody: string;
  /** The body as received, whatever its type (the admin API takes JSON). */
  readonly body: string;
  /** Query and form body merged; the query wins when a name is in both (as on Binance). */
  readonly params: Record<string, string>;
  readonly ip: string;
  readonly apiKey: string | undefined;
}

export async function parseRequest(req: IncomingMessage): Promise<ParsedRequest> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const rawBody = Buffer.concat(chunks).toString('utf8');
  const rawQuery = url.search.startsWith('?') ? url.search.slice(1) : '';
  const isForm = (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded') || !rawBody.trim().startsWith('{');
  const params: Record<string, string> = {};
  if (rawBody && isForm) for (const [k, v] of new URLSearchParams(rawBody)) params[k] = v;
  for (const [k, v] of url.searchParams) params[k] = v;
  const header = req.headers['x-mbx-apikey'];
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    rawQuery,
    rawBody: isForm ? rawBody : '',
    body: rawBody,
    params,
    ip: (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, ''),
    apiKey: Array.isArray(header) ? header[0] : header,
  };
}

/** The text a client signed: query then body, each without its `signature` parameter. */
export function signedPayload(rawQuery: string, rawBody: string): { payload: string; signature: string | undefined } {
  let signature: string | undefined;
  const strip = (raw: string) =>
    raw
      .split('&')
      .filter((part) => {
        if (part.startsWith('signature=')) {
          signature = decodeURIComponent(part.slice('signature='.length));
          return false;
        }
        return part !== '';
      })
      .join('&');
  const payload = strip(rawQuery) + strip(rawBody);
  return { payload, signature };
}
