import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError } from '../errors.ts';

/**
 * Requests Node's HTTP parser rejects, or that time out before they arrive
 * in full, never reach a route: Node emits 'clientError' on the socket. This
 * answers them in the same {"error": {code, message}} shape as every route,
 * then closes the socket (the connection cannot be trusted any more).
 */
export type ClientErrorReason = 'request_timeout' | 'header_fields_too_large' | 'bad_request';

export function makeClientErrorHandler(onRejected: (reason: ClientErrorReason) => void) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    // A reset connection is already gone: nothing to answer, nothing to count.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const answer = clientErrorAnswer(error.code);
    onRejected(answer.code as ClientErrorReason);
    // As Node does: answer only if no response of this socket has started, or its bytes would mix in.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) socket.write(rawResponse(answer));
    socket.destroy();
  };
}

function clientErrorAnswer(code: string | undefined): AppError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new AppError('request_timeout', 'The request did not arrive in full in time; send it promptly.');
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new AppError(
      'header_fields_too_large',
      `The request line and headers are larger than ${maxHeaderSize} bytes.`,
    );
  }
  return new AppError('bad_request', `The request is not valid HTTP/1.1 (${code ?? 'unparsable'}).`);
}

function rawResponse(error: AppError): string {
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}
