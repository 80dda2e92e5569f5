/** Calls to the gateway API: JSON in and out, problem details turned into errors with their `detail`. */

/** A gateway answer other than 2xx, with the problem's code and detail. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  const body = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const problem = body as { detail?: string; title?: string; code?: string } | undefined;
    throw new ApiError(problem?.detail ?? problem?.title ?? `${response.status} ${response.statusText}`, response.status, problem?.code);
  }
  return body as T;
}

/** `GET path` as JSON. */
export async function getJson<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' }));
}

/**
 * `method path` with a JSON body (`{}` when none is given: the gateway takes state-changing requests
 * as JSON only); resolves with the parsed answer and its status and headers.
 */
export async function sendJson<T>(
  method: 'POST' | 'PUT',
  path: string,
  body: unknown = {},
  headers: Record<string, string> = {},
): Promise<{ body: T; status: number; headers: Headers }> {
  const response = await fetch(path, {
    method,
    headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { body: await parse<T>(response), status: response.status, headers: response.headers };
}
