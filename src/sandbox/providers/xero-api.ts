import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type RecordSet, type RecordState, recordRandom } from '../datasets/record-set.ts';
import { recordSetOf } from '../datasets/record-set-kinds.ts';
import { bearerToken } from '../http.ts';
import type { KeyedLimit } from '../keyed-limits.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { connectedTenants, limitHeaders, problem, unauthorized } from './xero.ts';

/**
 * Xero's Invoices over the generated datasets (one per tenant, `xero/invoices`), under /xero/api:
 * GET /api.xro/2.0/Invoices with the `xero-tenant-id` header, `If-Modified-Since` (invoices
 * modified strictly after it; DELETED ones are listed only then, as Xero does), `page` (100 a
 * page, `pageSize` up to 1,000; a short page is the last), `order=UpdatedDateUTC [ASC|DESC]`,
 * `IDs=`; dates in Xero's `/Date(ms+0000)/` form. A removed invoice comes back DELETED (drafts)
 * or VOIDED (approved ones). Per tenant: 60 calls a minute and 5 in progress at once, else 429
 * with Retry-After and X-Rate-Limit-Problem (minute | concurrent).
 */

export const XERO_TENANT_LIMITS = { perMinute: 60, concurrent: 5 } as const;
const PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
const STATUSES = ['DRAFT', 'SUBMITTED', 'AUTHORISED', 'AUTHORISED', 'PAID', 'PAID'] as const;
const CONTACTS = ['Bayside Club', 'City Limousines', 'Ridgeway University', 'Marine Systems', 'Boom FM'];

/** The key the sandbox counts a tenant's calls under (keyedLimits.peak(xeroLimitKey(id))). */
export const xeroLimitKey = (tenantId: string) => `xero:${tenantId}`;

function tenantLimit(request: FastifyRequest): KeyedLimit | undefined {
  const tenantId = request.headers['xero-tenant-id'];
  if (typeof tenantId !== 'string' || tenantId === '') return undefined;
  return {
    key: xeroLimitKey(tenantId),
    window: { limit: XERO_TENANT_LIMITS.perMinute, ms: 60_000, problem: 'minute' },
    concurrent: XERO_TENANT_LIMITS.concurrent,
  };
}

export function registerXeroApiRoutes(app: FastifyInstance, state: SandboxState): void {
  app.get('/api/api.xro/2.0/Invoices', endpoint('xero.invoices', tenantLimit), async (request, reply) => {
    const check = checkAccessToken(state, 'xero', bearerToken(request));
    if (!check.ok) return unauthorized(reply, check.failure, check.token?.expiresAt ?? null);
    const tenantId = request.headers['xero-tenant-id'];
    const tenant = connectedTenants(state, check.grant).find((t) => t.tenantId === tenantId);
    if (!tenant) return problem(reply, 403, 'Forbidden', 'AuthenticationUnsuccessful');
    const query = request.query as Record<string, string | undefined>;

    const page = query.page === undefined ? undefined : Number(query.page);
    if (page !== undefined && !(Number.isInteger(page) && page >= 1))
      return validation(reply, `The page parameter must be a positive integer, not "${query.page}".`);
    const pageSize = query.pageSize === undefined ? PAGE_SIZE : Number(query.pageSize);
    if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= MAX_PAGE_SIZE))
      return validation(reply, `pageSize must be between 1 and ${MAX_PAGE_SIZE}.`);
    const order = (query.order ?? '').trim().replace(/\s+/g, ' ').toUpperCase();
    if (order !== '' && !['UPDATEDDATEUTC', 'UPDATEDDATEUTC ASC', 'UPDATEDDATEUTC DESC'].includes(order))
      return validation(reply, `The sandbox orders invoices by UpdatedDateUTC only, not "${query.order}".`);
    // An unreadable If-Modified-Since is ignored, as HTTP says.
    const since = readSince(request.headers['if-modified-since']);
    const ids = query.IDs?.split(',').map((id) => id.trim().toLowerCase());

    const set = recordSetOf(state, 'xero', 'invoices', tenant.tenantId);
    const invoices: unknown[] = [];
    if (set) {
      const skip = page === undefined ? 0 : (page - 1) * pageSize;
      const take = page === undefined ? Number.POSITIVE_INFINITY : pageSize;
      let seen = 0;
      for (const index of indexesOf(set, { since, order, ids })) {
        const record = set.state(index);
        const invoice = renderInvoice(set, tenant.baseCurrency, record);
        // DELETED invoices are listed only to a client asking what changed since a time.
        if (invoice.Status === 'DELETED' && since === undefined && !ids) continue;
        if (seen++ < skip) continue;
        invoices.push(invoice);
        if (invoices.length >= take) break;
      }
    }
    reply.headers(limitHeaders(state));
    return reply.send({
      Id: randomUUID(),
      Status: 'OK',
      ProviderName: 'tether sandbox',
      DateTimeUTC: xeroDate(state.clock.now()),
      ...(page === undefined ? {} : { pagination: { page, pageSize, itemCount: invoices.length } }),
      Invoices: invoices,
    });
  });
}

function* indexesOf(
  set: RecordSet,
  filter: { since: number | undefined; order: string; ids: string[] | undefined },
): Generator<number> {
  if (filter.ids) {
    for (const id of filter.ids) {
      const index = set.indexOf(id.replace(/-/g, '').slice(0, 24));
      if (index !== undefined && set.state(index).modifiedAt > (filter.since ?? -1)) yield index;
    }
    return;
  }
  if (filter.order.endsWith('DESC')) {
    for (const index of set.modifiedBefore(undefined)) {
      if (filter.since !== undefined && set.state(index).modifiedAt <= filter.since) return;
      yield index;
    }
    return;
  }
  if (filter.order !== '' || filter.since !== undefined) {
    yield* set.modifiedAfter(filter.since);
    return;
  }
  for (let index = 0; index < set.size(); index++) yield index;
}

/** If-Modified-Since as Xero takes it: `2024-01-31T10:00:00` (UTC) or an HTTP date; ms. */
function readSince(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(text) ? `${text}Z` : text;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? undefined : at;
}

export function xeroDate(ms: number): string {
  return `/Date(${ms}+0000)/`;
}

/** A Xero-shaped GUID from the record's key (its first 24 hex digits are the key). */
export function invoiceId(record: RecordState): string {
  const k = `${record.key}00000000`;
  return `${k.slice(0, 8)}-${k.slice(8, 12)}-${k.slice(12, 16)}-${k.slice(16, 20)}-${k.slice(20, 32)}`;
}

export function renderInvoice(set: RecordSet, currency: string, record: RecordState) {
  const base = recordRandom(set, 'invoice', record.index);
  const status = STATUSES[Math.floor(base.next() * STATUSES.length)]!;
  const type = base.next() < 0.8 ? 'ACCREC' : 'ACCPAY';
  const contact = CONTACTS[Math.floor(base.next() * CONTACTS.length)]!;
  const subTotal = Math.round(base.next() * 500_000) / 100;
  const change = recordRandom(set, 'invoice', record.index, record.version);
  const reference = record.version === 0 ? `REF-${record.index}` : `REF-${record.index}-v${record.version}`;
  const finalStatus = record.removed
    ? status === 'DRAFT' || status === 'SUBMITTED'
      ? 'DELETED'
      : 'VOIDED'
    : status;
  const tax = Math.round(subTotal * 20) / 100;
  const total = Math.round((subTotal + tax) * 100) / 100;
  const paid =
    finalStatus === 'PAID'
      ? total
      : record.version > 0 && status === 'AUTHORISED'
        ? Math.round(change.next() * total * 100) / 100
        : 0;
  const date = record.createdAt - (record.createdAt % 86_400_000);
  if (record.malformed) {
    // What a broken record looks like to a client: wrong types, a date that is no date.
    return {
      InvoiceID: invoiceId(record),
      Type: type,
      Status: status,
      Total: 'lots',
      UpdatedDateUTC: 'yesterday',
    };
  }
  return {
    Type: type,
    InvoiceID: invoiceId(record),
    InvoiceNumber: type === 'ACCREC' ? `INV-${String(record.index + 1).padStart(5, '0')}` : '',
    Reference: reference,
    Contact: { ContactID: `${invoiceId(record).slice(0, 24)}c0c0c0c0c0c0`, Name: contact },
    Date: xeroDate(date),
    DueDate: xeroDate(date + 30 * 86_400_000),
    Status: finalStatus,
    LineAmountTypes: 'Exclusive',
    SubTotal: subTotal,
    TotalTax: tax,
    Total: total,
    AmountDue: Math.round((total - paid) * 100) / 100,
    AmountPaid: paid,
    CurrencyCode: currency,
    UpdatedDateUTC: xeroDate(record.modifiedAt),
    HasAttachments: false,
  };
}

function validation(reply: import('fastify').FastifyReply, message: string) {
  return reply.code(400).send({
    ErrorNumber: 10,
    Type: 'ValidationException',
    Message: 'A validation exception occurred',
    Elements: [{ ValidationErrors: [{ Message: message }] }],
  });
}
