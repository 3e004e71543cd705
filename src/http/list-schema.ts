import { z } from 'zod';

/**
 * The query fields and the answer every list shares: `{items, nextCursor}`, paged by an opaque
 * cursor (src/db/keyset.ts makes and checks it, so a bad one is `invalid_cursor`, not a schema error).
 */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Items per page (1–500)'),
  cursor: z
    .string()
    .optional()
    .describe('The nextCursor of the previous page, exactly as returned; omit it for the first page'),
};

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
  });
