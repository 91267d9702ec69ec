import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { APIError } from './errors';

/**
 * Call the MLP server extension's REST API.
 *
 * The token (if any) travels in the Authorization header, never in the URL:
 * `ServerConnection.makeRequest` adds it from the page config.
 *
 * @param endPoint - API path below `{base_url}mlp/api/` (with its query string)
 * @param init - initial values for the request
 * @returns the parsed JSON response body (`undefined` for an empty body, e.g. 204)
 * @throws {APIError} `network` when no answer came, `client`/`server` for 4xx/5xx with
 *   the server's message, `invalid-response` for a 2xx body that is not JSON
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const requestUrl = URLExt.join(settings.baseUrl, 'mlp', 'api', endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(requestUrl, init, settings);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new APIError(
      `The Jupyter server did not answer (${reason})`,
      0,
      'network'
    );
  }

  const text = await response.text();
  if (!response.ok) {
    throw APIError.fromResponse(response.status, response.statusText, text);
  }
  if (text.length === 0) {
    return undefined as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new APIError(
      `The answer of ${endPoint || 'the MLP API'} is not JSON`,
      response.status,
      'invalid-response'
    );
  }
}

/**
 * `requestAPI` with a JSON body.
 *
 * @param endPoint - API path below `{base_url}mlp/api/`
 * @param method - `POST`, `PATCH`, `PUT` or `DELETE`
 * @param body - sent as JSON; `undefined` sends an empty body
 */
export function sendAPI<T>(
  endPoint: string,
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  body?: unknown
): Promise<T> {
  return requestAPI<T>(endPoint, {
    method,
    body: body === undefined ? '' : JSON.stringify(body)
  });
}
