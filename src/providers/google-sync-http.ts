import { z } from 'zod';
import { AppError } from '../errors.ts';

// Reading a Google API's JSON answer in a sync: a non-2xx answer the sync does not handle itself,
// or a body of another shape, fails the run as bad_gateway (naming the call, never the body).

export async function readGoogleJson<S extends z.ZodType>(
  response: Response,
  schema: S,
  what: string,
): Promise<z.infer<S>> {
  if (!response.ok) {
    await response.body?.cancel();
    throw new AppError('bad_gateway', `Google answered ${response.status} to ${what}.`);
  }
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new AppError('bad_gateway', `Google answered ${what} with an unexpected body.`);
  return parsed.data;
}

/** Items are read one by one by the model's map(): a page only promises an array of objects with an id. */
export const RawItems = z.array(z.looseObject({ id: z.string().min(1) }));

/** An RFC 3339 time as milliseconds, the record's provider version. */
export const isoMillis = (value: string) => Date.parse(value);
