/** The few calls the CLI makes to a running tracehouse API, with errors a person can act on. */
export class ApiClientError extends Error {
  override name = 'ApiClientError';
}

export async function apiRequest<T>(
  baseUrl: string,
  method: string,
  path: string,
  params: Record<string, string | undefined> = {},
  body?: unknown,
): Promise<T> {
  const url = new URL(path, baseUrl);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ApiClientError(`cannot reach the API at ${baseUrl} (${(err as Error).message}); is "tracehouse start" running?`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw new ApiClientError(`${method} ${url.pathname}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const message = (parsed as { error?: { message?: string } }).error?.message ?? res.statusText;
    throw new ApiClientError(message);
  }
  return parsed as T;
}
