/** The few calls the CLI makes to a running tracehouse API, with errors a person can act on. */
import { retryAfterFromHeaders, type RetryVerdict } from '../component/retry.js';
import type { FlagDef } from './command.js';

/** Where the API is: every command that talks to a running tracehouse takes these (see command.ts). */
export const API_FLAGS: readonly FlagDef[] = [
  { name: 'api-url', type: 'string', value: 'URL', env: 'TRACEHOUSE_API_URL', default: 'http://localhost:8080', help: 'the running tracehouse API' },
  { name: 'key', type: 'string', value: 'KEY', env: 'TRACEHOUSE_API_KEY', help: 'API key, needed once keys are on (README "API keys")' },
];

/** `--project`; without it the API answers for the key's own project (`default` when keys are off). */
export const projectFlag = (help: string): FlagDef => ({
  name: 'project',
  type: 'string',
  value: 'NAME',
  help: `${help} (default: the key's project, else default)`,
});

export class ApiClientError extends Error {
  override name = 'ApiClientError';
  constructor(
    message: string,
    /** HTTP status of the answer; undefined when the API could not be reached. */
    readonly status?: number,
    /** The API's stable error code (README "API errors"), when it sent one. */
    readonly code?: string,
    /** The wait the API asked for (Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(code ? `[${code}] ${message}` : message);
  }
}

/** Whether a failed call is worth another try: unreachable, timeouts, throttling and server errors are; other 4xx are not. */
export function apiVerdict(err: unknown): RetryVerdict {
  if (!(err instanceof ApiClientError)) return { retryable: false };
  const s = err.status;
  return { retryable: s === undefined || s === 408 || s === 429 || s >= 500, retryAfterMs: err.retryAfterMs };
}

/** The key every call sends (`--key`, else TRACEHOUSE_API_KEY); none when the API runs without keys. */
let apiKey: string | undefined = process.env.TRACEHOUSE_API_KEY || undefined;

export function setApiKey(key: string | undefined): void {
  if (key) apiKey = key;
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
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
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
    const error = (parsed as { error?: { message?: string; code?: string } }).error;
    const hint = res.status === 401 && !apiKey ? ' (pass --key or set TRACEHOUSE_API_KEY)' : '';
    throw new ApiClientError(`${error?.message ?? res.statusText}${hint}`, res.status, error?.code, retryAfterFromHeaders(res.headers));
  }
  return parsed as T;
}
