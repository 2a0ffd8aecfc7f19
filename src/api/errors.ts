/**
 * Stable API error codes. Each has one HTTP status; the README's "API errors" table lists the same
 * codes (a test keeps the two in sync). Clients may branch on `error.code`; messages may change.
 */
export const API_ERRORS = {
  INVALID_PARAMETER: { status: 400, description: 'a query parameter or body field is missing or malformed' },
  INVALID_FILTER: { status: 400, description: 'the search filter does not parse; `position` and `expected` say where and what' },
  INVALID_PAGE_TOKEN: { status: 400, description: 'the page token was not issued by this API' },
  UNAUTHENTICATED: { status: 401, description: 'no API key, or one that is not valid, revoked or expired (`reason` says which)' },
  PERMISSION_DENIED: { status: 403, description: "the key lacks the scope, or the request names another project than the key's" },
  HOST_NOT_ALLOWED: { status: 403, description: 'a loopback-bound API got a Host header other than localhost (DNS rebinding guard; see auth.allowed_hosts)' },
  NOT_FOUND: { status: 404, description: 'no such trace, assessment or path' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'the path exists but not with this method' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'the request body is over the limit' },
  HEADERS_TOO_LARGE: { status: 431, description: 'the URL or headers are over 16 KB' },
  MALFORMED_REQUEST: { status: 400, description: 'the request is not valid HTTP' },
  UNAVAILABLE: { status: 503, description: 'the store cannot be reached; retry later' },
  INTERNAL: { status: 500, description: 'an unexpected failure; the log has details' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get status(): number {
    return API_ERRORS[this.code].status;
  }

  toJSON(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}
