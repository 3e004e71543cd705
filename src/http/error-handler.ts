import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, errorStatus, type HttpErrorCode, isAppError } from '../errors.ts';

/**
 * Renders every error as {"error": {"code", "message"}}. A client's mistake
 * (bad JSON, too large, wrong type, failed validation) maps to its 4xx; only
 * a fault of tether's own becomes a 500, and its message is generic so no
 * internals (or secrets in them) leak.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error as FastifyError, request);
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.status(error.status).send({ error: { code: error.code, message: error.message } });
}

/**
 * Fastify's `frameworkErrors`: URLs the router rejects before any route or
 * hook runs (a path parameter over maxParamLength, a segment that does not
 * decode), in the same shape as everything else.
 */
export function renderFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  reply.header('x-request-id', request.id);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendError(reply, new AppError('uri_too_long', 'A path parameter of the URL is too long.'));
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    return sendError(reply, new AppError('bad_request', 'The URL path is not valid percent-encoding.'));
  }
  return sendError(reply, toAppError(error, request));
}

function toAppError(error: FastifyError, request: FastifyRequest): AppError {
  if (isAppError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const first = error.validation[0];
    const where = first?.instancePath
      ? `${error.validationContext ?? 'request'}${first.instancePath.replaceAll('/', '.')}`
      : (error.validationContext ?? 'request');
    return new AppError(
      'validation_failed',
      `Invalid ${where}: ${first?.message ?? 'does not match the schema'}.`,
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(
        'payload_too_large',
        `The request body is larger than this endpoint accepts (${request.routeOptions.bodyLimit} bytes).`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'This endpoint does not accept that Content-Type.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json', 'The body is empty but Content-Type says JSON.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_json', 'The body is not valid JSON.');
  }
  const status = error.statusCode ?? 500;
  if (status === 400 && error instanceof SyntaxError)
    return new AppError('invalid_json', 'The body is not valid JSON.');
  if (status >= 400 && status < 500) return new AppError(codeForStatus(status), error.message, { status });
  return new AppError('internal_error', 'Something went wrong inside tether; the error was logged.');
}

function codeForStatus(status: number): HttpErrorCode {
  const match = (Object.entries(errorStatus) as [HttpErrorCode, number][]).find(([, s]) => s === status);
  return match ? match[0] : 'bad_request';
}
