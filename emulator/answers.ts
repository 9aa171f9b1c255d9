/** The answers operations give, as Upstash documents them: a status and a JSON body (or none). */

export interface Answer {
  status: number;
  /** JSON, or '' for no body. */
  body: string;
}

export const json = (status: number, body: unknown): Answer => ({ status, body: JSON.stringify(body) });
export const notFound = (): Answer => json(404, { error: 'dlq message not found' });
export const someNotFound = (): Answer => json(404, { error: 'some DLQ messages were not found' });
export const badRequest = (error: string): Answer => json(400, { error });
export const methodNotAllowed = (): Answer => json(405, { error: 'method not allowed' });
export const noRoute = (): Answer => json(404, { error: 'not found' });

/** The body, with `cursor` when there is a next page. */
export const withCursor = (body: Record<string, unknown>, cursor: string | undefined): Record<string, unknown> =>
  cursor === undefined || cursor === '' ? body : { ...body, cursor };
