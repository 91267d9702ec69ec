import { APIError, bodyMessage, errorMessage } from '../ui/errors';

describe('APIError.fromResponse', () => {
  it("takes the server extension's JSON message", () => {
    const error = APIError.fromResponse(
      400,
      'Bad Request',
      '{"message": "limit must be a positive number: abc"}'
    );
    expect(error.message).toBe('limit must be a positive number: abc');
    expect(error.status).toBe(400);
    expect(error.kind).toBe('client');
    expect(error.retryable).toBe(false);
  });

  it('classes 5xx answers as server errors that may be retried', () => {
    const error = APIError.fromResponse(
      502,
      'Bad Gateway',
      '{"message": "the MLP service is unreachable"}'
    );
    expect(error.kind).toBe('server');
    expect(error.retryable).toBe(true);
  });

  it('falls back to the status text when the body says nothing useful', () => {
    expect(
      APIError.fromResponse(500, 'Internal Server Error', '').message
    ).toBe('Internal Server Error');
    expect(
      APIError.fromResponse(500, '', '<html><body>500</body></html>').message
    ).toBe('HTTP 500');
  });

  it('is an Error with its own name', () => {
    const error = APIError.fromResponse(404, 'Not Found', '');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('APIError');
  });
});

describe('bodyMessage', () => {
  it('reads message, detail or error, in that order', () => {
    expect(bodyMessage('{"detail": "d", "error": "e"}')).toBe('d');
    expect(bodyMessage('{"error": "e"}')).toBe('e');
    expect(bodyMessage('{"status": 400}')).toBe('');
  });

  it('keeps plain text and drops HTML', () => {
    expect(bodyMessage('  not allowed  ')).toBe('not allowed');
    expect(bodyMessage('<!DOCTYPE html><p>x</p>')).toBe('');
    expect(bodyMessage('"quoted"')).toBe('quoted');
  });
});

describe('errorMessage', () => {
  it('shows the message of errors and the text of anything else', () => {
    expect(errorMessage(new APIError('refused', 403, 'client'))).toBe(
      'refused'
    );
    expect(errorMessage(new TypeError('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
  });
});
