import { eq } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { type Keyset, tablePage } from '../db/keyset.ts';
import { gmailMailboxes, payments, signatureRequests } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { listOf, pageQuery } from '../http/list-schema.ts';
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

const eqIf = (column: PgColumn, value: string | undefined) =>
  value === undefined ? undefined : eq(column, value);

const paymentsNewestFirst: Keyset = {
  list: 'payments',
  direction: 'desc',
  keys: [
    { column: payments.createdAt, kind: 'timestamp' },
    { column: payments.id, kind: 'text' },
  ],
};
const signatureRequestsNewestFirst: Keyset = {
  list: 'signature-requests',
  direction: 'desc',
  keys: [
    { column: signatureRequests.createdAt, kind: 'timestamp' },
    { column: signatureRequests.envelopeId, kind: 'text' },
  ],
};
const mailboxesByAddress: Keyset = {
  list: 'gmail-mailboxes',
  direction: 'asc',
  keys: [{ column: gmailMailboxes.emailAddress, kind: 'text' }],
};

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
          ...pageQuery,
        }),
        response: { 200: listOf(PaymentView) },
        errors: ['invalid_cursor'],
      },
    },
    async ({ query: q }) => {
      const filters = [
        eqIf(payments.provider, q.provider),
        eqIf(payments.status, q.status),
        eqIf(payments.integrationKey, q.integration),
        eqIf(payments.providerObjectId, q.providerObjectId),
      ];
      const { rows, nextCursor } = await tablePage(db, payments, paymentsNewestFirst, q, filters);
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
        errors: ['not_found'],
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
          ...pageQuery,
        }),
        response: { 200: listOf(SignatureRequestView) },
        errors: ['invalid_cursor'],
      },
    },
    async ({ query: q }) => {
      const filters = [
        eqIf(signatureRequests.status, q.status),
        eqIf(signatureRequests.integrationKey, q.integration),
      ];
      const { rows, nextCursor } = await tablePage(
        db,
        signatureRequests,
        signatureRequestsNewestFirst,
        q,
        filters,
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
        errors: ['not_found'],
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
        querystring: z.object({ integration: z.string().min(1).max(64).optional(), ...pageQuery }),
        response: { 200: listOf(GmailMailboxView) },
        errors: ['invalid_cursor'],
      },
    },
    async ({ query: q }) => {
      const { rows, nextCursor } = await tablePage(db, gmailMailboxes, mailboxesByAddress, q, [
        eqIf(gmailMailboxes.integrationKey, q.integration),
      ]);
      return { items: rows.map(toMailbox), nextCursor };
    },
  );
};
