import { type DestinationStream, type Logger, pino } from 'pino';
import { makeOutputDestination } from './closed-output.ts';
import { serializeError } from './log-errors.ts';
import { redactSecrets, redactUrl } from './redact.ts';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Where lines go (default stdout, never blocking, see closed-output.ts); tests pass a stream to capture them. */
  destination?: DestinationStream;
}

/**
 * pino, JSON lines. Every object logged passes through redactSecrets, so a
 * field named like a token, secret, password or key never reaches the log,
 * whatever module logged it. Request bodies are never logged; errors are logged through
 * serializeError, which keeps a failed query's values out.
 */
export function makeLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'tether' },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
        censor: '[redacted]',
      },
      formatters: {
        log: (object) => redactSecrets(object) as Record<string, unknown>,
      },
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({
          method: req.method,
          url: redactUrl(req.url),
          id: req.id,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        // Never pino's own: it would print a failed query's parameters (event payloads, tokens).
        err: serializeError,
      },
    },
    options.destination ?? makeOutputDestination(),
  );
}
