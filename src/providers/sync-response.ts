import type { z } from 'zod';
import { AppError } from '../errors.ts';

/**
 * A provider's answer to a sync's list call, read against its schema: not 2xx, or a body of
 * another shape, fails the run as bad_gateway naming the provider and the call (never the body,
 * which may hold personal data). Single records are checked later, one at a time, by the model's
 * map(), so one bad record fails alone.
 */
export async function readSyncJson<S extends z.ZodType>(
  response: Response,
  schema: S,
  provider: string,
  what: string,
): Promise<z.infer<S>> {
  if (!response.ok) {
    await response.body?.cancel();
    throw new AppError('bad_gateway', `${provider} answered ${response.status} to ${what}.`);
  }
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new AppError('bad_gateway', `${provider} answered ${what} with an unexpected body.`);
  return parsed.data;
}
