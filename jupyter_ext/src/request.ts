import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * Call the MLP server extension's REST API.
 *
 * The token (if any) travels in the Authorization header, never in the URL:
 * `ServerConnection.makeRequest` adds it from the page config.
 *
 * @param endPoint - API path below `{base_url}mlp/api/`
 * @param init - initial values for the request
 * @returns the parsed JSON response body
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
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  let data: unknown = text;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      console.error('Not a JSON response body.', response);
    }
  }

  if (!response.ok) {
    const message =
      data && typeof data === 'object' && 'message' in data
        ? String((data as { message: unknown }).message)
        : String(data || response.statusText);
    throw new ServerConnection.ResponseError(response, message);
  }

  return data as T;
}
