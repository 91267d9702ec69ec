/**
 * Typed errors of the MLP REST calls. Pure (no JupyterLab imports) so jest tests the
 * parsing of error bodies directly.
 */

/**
 * What went wrong with a request:
 * - `network`: no answer (server down, connection refused);
 * - `client`: a 4xx, the request was refused (the message says what to change);
 * - `server`: a 5xx, the server or the MLP service behind it failed;
 * - `invalid-response`: a 2xx whose body is not the JSON the caller expects.
 */
export type APIErrorKind = 'network' | 'client' | 'server' | 'invalid-response';

/**
 * A failed call of the MLP server extension (`{base_url}mlp/api/...`).
 */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly kind: APIErrorKind
  ) {
    super(message);
    this.name = 'APIError';
  }

  /**
   * Whether trying again later may help (the polls back off on these); a refused
   * request (4xx) will be refused again until the user changes it.
   */
  get retryable(): boolean {
    return this.kind === 'network' || this.kind === 'server';
  }

  /**
   * The error for an HTTP error answer, its message taken from the JSON body's
   * `message` (the server extension and the MLP service), `detail` or `error`.
   *
   * @param status - the HTTP status (>= 400)
   * @param statusText - the status line's text, used when the body says nothing
   * @param body - the response body as text
   */
  static fromResponse(
    status: number,
    statusText: string,
    body: string
  ): APIError {
    const kind: APIErrorKind = status >= 500 ? 'server' : 'client';
    return new APIError(
      bodyMessage(body) || statusText || `HTTP ${status}`,
      status,
      kind
    );
  }
}

/**
 * The human message inside an error body: JSON `message`, `detail` or `error`, else the
 * text itself (trimmed, HTML pages reduced to nothing).
 */
export function bodyMessage(body: string): string {
  const text = body.trim();
  if (!text) {
    return '';
  }
  try {
    const data = JSON.parse(text) as unknown;
    if (data && typeof data === 'object') {
      for (const key of ['message', 'detail', 'error']) {
        const value = (data as Record<string, unknown>)[key];
        if (typeof value === 'string' && value) {
          return value;
        }
      }
      return '';
    }
    return typeof data === 'string' ? data : text;
  } catch {
    // Tornado's default error pages are HTML: their markup is no message for a person.
    return text.startsWith('<') ? '' : text;
  }
}

/**
 * The text to show for any rejection reason: an `APIError`'s or `Error`'s message,
 * else the value as a string.
 */
export function errorMessage(reason: unknown): string {
  if (reason instanceof Error) {
    return reason.message;
  }
  return String(reason);
}
