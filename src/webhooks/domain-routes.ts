import { and, asc, desc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { gmailMailboxes, payments, signatureRequests } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { ENVELOPE_STATUSES, PAYMENT_STATUSES } from './effects/index.ts';

// Read-only views of the state webhooks drive: payments (Stripe, PayPal), signature requests
// (DocuSign envelopes) and watched Gmail mailboxes. Lists are newest first, keyset-paginated on
// (created_at, id): the cursor names the last row seen, so rows created while a client pages
// never shift later pages (no duplicates, no gaps).

const PaymentView = z.object({
  id: z.string(),
  provider: z.enum(['stripe', 'paypal']),
  integration: z.string(),
  providerObjectId: z
    .string()
    .describe('Stripe PaymentIntent (else invoice, charge…) id; PayPal capture or order id'),
  status: z.enum(PAYMENT_STATUSES).describe('Forward-only: a late or duplicate event never moves it back'),
  amount: z.number().int().nullable().describe('In minor units (cents), when known'),
  currency: z.string().nullable().describe('ISO 4217, upper-case'),
  refundedAmount: z.number().int().describe('Total refunded so far, in minor units'),
  disputeStatus: z.string().nullable(),
  customer: z.string().nullable(),
  lastEventId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const SignatureRequestView = z.object({
  envelopeId: z.string(),
  integration: z.string(),
  accountId: z.string().nullable(),
  status: z.enum(ENVELOPE_STATUSES).describe('Forward-only; completed, declined and voided are final'),
  statusChangedAt: z.string().nullable(),
  lastEventId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const GmailMailboxView = z.object({
  emailAddress: z.string(),
  integration: z.string(),
  historyId: z.string().describe('Decimal string (may exceed 2^53); only moves forward'),
  lastMessageId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
const paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(400).optional(),
};

type PaymentRow = typeof payments.$inferSelect;
type SignatureRow = typeof signatureRequests.$inferSelect;
type MailboxRow = typeof gmailMailboxes.$inferSelect;

const dates = (row: { createdAt: Date; updatedAt: Date }) => ({
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});
const toPayment = ({ integrationKey, statusRank: _, provider, status, ...row }: PaymentRow) => ({
  ...row,
  provider: provider as 'stripe' | 'paypal',
  status: status as z.infer<typeof PaymentView>['status'],
  integration: integrationKey,
  ...dates(row),
});
const toSignatureRequest = ({ integrationKey, statusRank: _, status, ...row }: SignatureRow) => ({
  ...row,
  status: status as z.infer<typeof SignatureRequestView>['status'],
  integration: integrationKey,
  statusChangedAt: row.statusChangedAt?.toISOString() ?? null,
  ...dates(row),
});
const toMailbox = ({ integrationKey, ...row }: MailboxRow) => ({
  ...row,
  integration: integrationKey,
  ...dates(row),
});

/**
 * One page, newest first. created_at travels in the cursor as UTC text with PostgreSQL's
 * microseconds, so the comparison is exact where a JavaScript Date (milliseconds) would skip or
 * repeat rows; the format does not depend on the session's DateStyle or TimeZone.
 */
async function newestFirst<R>(
  db: Db,
  table: typeof payments | typeof signatureRequests,
  key: PgColumn,
  filters: (SQL | undefined)[],
  query: { limit: number; cursor?: string | undefined },
): Promise<{ rows: R[]; nextCursor: string | null }> {
  const where = [...filters];
  if (query.cursor) {
    const [at, id] = decodeCursor(query.cursor);
    where.push(sql`(${table.createdAt}, ${key}) < (${at}::timestamptz, ${id})`);
  }
  const found = await db
    .select({
      row: table,
      at: sql<string>`to_char(${table.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
      key: sql<string>`${key}`,
    })
    .from(table)
    .where(and(...where))
    .orderBy(desc(table.createdAt), desc(key))
    .limit(query.limit + 1);
  const page = found.slice(0, query.limit);
  const last = page.at(-1);
  return {
    rows: page.map((f) => f.row as R),
    nextCursor: found.length > query.limit && last ? encodeCursor(last.at, last.key) : null,
  };
}

const eqIf = (column: PgColumn, value: string | undefined) =>
  value === undefined ? undefined : eq(column, value);

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[1] === 'string' &&
      CURSOR_AT.test(value[0])
    ) {
      return value as [string, string];
    }
  } catch {}
  throw new AppError('validation_failed', 'cursor is not one this API returned');
}

export const domainRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/payments',
    {
      schema: {
        tags: ['payments'],
        summary: 'Payments recorded from Stripe and PayPal webhooks, newest first',
        querystring: z.object({
          provider: PaymentView.shape.provider.optional(),
          status: PaymentView.shape.status.optional(),
          integration: z.string().min(1).max(64).optional(),
          providerObjectId: z.string().min(1).max(200).optional(),
          ...paging,
        }),
        response: { 200: Page(PaymentView) },
      },
    },
    async ({ query: q }) => {
      const { rows, nextCursor } = await newestFirst<PaymentRow>(
        db,
        payments,
        payments.id,
        [
          eqIf(payments.provider, q.provider),
          eqIf(payments.status, q.status),
          eqIf(payments.integrationKey, q.integration),
          eqIf(payments.providerObjectId, q.providerObjectId),
        ],
        q,
      );
      return { items: rows.map(toPayment), nextCursor };
    },
  );

  app.get(
    '/payments/:id',
    {
      schema: {
        tags: ['payments'],
        summary: 'One payment',
        params: z.object({ id: z.string().max(100) }),
        response: { 200: PaymentView },
      },
    },
    async ({ params }) => {
      const [row] = await db.select().from(payments).where(eq(payments.id, params.id));
      if (!row) throw new AppError('not_found', `No payment with id "${params.id}".`);
      return toPayment(row);
    },
  );

  app.get(
    '/signature-requests',
    {
      schema: {
        tags: ['signature-requests'],
        summary: 'DocuSign envelopes recorded from Connect webhooks, newest first',
        querystring: z.object({
          status: SignatureRequestView.shape.status.optional(),
          integration: z.string().min(1).max(64).optional(),
          ...paging,
        }),
        response: { 200: Page(SignatureRequestView) },
      },
    },
    async ({ query: q }) => {
      const { rows, nextCursor } = await newestFirst<SignatureRow>(
        db,
        signatureRequests,
        signatureRequests.envelopeId,
        [eqIf(signatureRequests.status, q.status), eqIf(signatureRequests.integrationKey, q.integration)],
        q,
      );
      return { items: rows.map(toSignatureRequest), nextCursor };
    },
  );

  app.get(
    '/signature-requests/:envelopeId',
    {
      schema: {
        tags: ['signature-requests'],
        summary: 'One DocuSign envelope',
        params: z.object({ envelopeId: z.string().max(100) }),
        response: { 200: SignatureRequestView },
      },
    },
    async ({ params }) => {
      const [row] = await db
        .select()
        .from(signatureRequests)
        .where(eq(signatureRequests.envelopeId, params.envelopeId));
      if (!row) throw new AppError('not_found', `No signature request for envelope "${params.envelopeId}".`);
      return toSignatureRequest(row);
    },
  );

  app.get(
    '/gmail-mailboxes',
    {
      schema: {
        tags: ['gmail'],
        summary: 'Gmail mailboxes watched through Pub/Sub, by email address',
        querystring: z.object({ integration: z.string().min(1).max(64).optional(), ...paging }),
        response: { 200: Page(GmailMailboxView) },
      },
    },
    async ({ query: q }) => {
      const rows = await db
        .select()
        .from(gmailMailboxes)
        .where(
          and(
            eqIf(gmailMailboxes.integrationKey, q.integration),
            q.cursor ? gt(gmailMailboxes.emailAddress, q.cursor) : undefined,
          ),
        )
        .orderBy(asc(gmailMailboxes.emailAddress))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      return {
        items: page.map(toMailbox),
        nextCursor: rows.length > q.limit ? page.at(-1)!.emailAddress : null,
      };
    },
  );
};
