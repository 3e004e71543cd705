import { z } from 'zod';
import type { SyncContext, SyncDefinition, SyncItem, SyncPage } from '../syncs/definition.ts';
import { makeOverlapFilter } from './page-overlap.ts';
import { readSyncJson } from './sync-response.ts';

/**
 * Xero `invoices`, per tenant of the connection (metadata.tenants), one tenant after another.
 *
 * Each call asks for the invoices modified after the tenant's high-water mark (If-Modified-Since,
 * which Xero reads to the second), oldest change first, 100 a page; a short page ends the tenant.
 * After every page the mark moves to the newest change on it and paging restarts at page 1: an
 * invoice changed mid-pass moves to the end of the order, which with plain page numbers would
 * shift another invoice back onto a page already read (skipped for good, its time being below the
 * mark). Only when a whole page shares one second does the page number go up instead. The mark
 * is floored to the second, so the invoices of that second come again, unchanged by content hash.
 *
 * DELETED invoices become tombstones; VOIDED ones stay, with their status, as Xero keeps them.
 */

export interface XeroCheckpoint {
  /** Per tenant id: the high-water mark (ms, whole seconds; null: from the start) and the page. */
  tenants: Record<string, { since: number | null; page: number }>;
}

const MODEL = 'invoices';
const PAGE_SIZE = 100;
const DISPLAY = 'Xero';
const ID_CHUNK = 50;

const XeroDate = z
  .string()
  .regex(/^\/Date\((-?\d+)([+-]\d{4})?\)\/$/)
  .transform((value) => Number(/-?\d+/.exec(value)![0]));
const Invoice = z.object({
  InvoiceID: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i),
  Type: z.string(),
  InvoiceNumber: z.string().optional(),
  Reference: z.string().optional(),
  Contact: z.object({ ContactID: z.string(), Name: z.string() }).optional(),
  Date: XeroDate.optional(),
  DueDate: XeroDate.optional(),
  Status: z.string(),
  SubTotal: z.number(),
  TotalTax: z.number(),
  Total: z.number(),
  AmountDue: z.number(),
  AmountPaid: z.number(),
  CurrencyCode: z.string(),
  UpdatedDateUTC: XeroDate,
});
const Page = z.object({ Invoices: z.array(z.unknown()) });
/** Enough of an invoice to place it (id, status, time) even when the rest is malformed. */
const Head = z.object({
  InvoiceID: z.string().min(1),
  Status: z.string().optional(),
  UpdatedDateUTC: XeroDate.optional().catch(undefined),
});
const Tenants = z.array(z.object({ tenantId: z.string().min(1) })).catch([]);

interface Raw {
  tenantId: string;
  invoice: unknown;
}

function mapInvoice(raw: unknown) {
  const { tenantId, invoice } = raw as Raw;
  const i = Invoice.parse(invoice);
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    data: {
      id: i.InvoiceID,
      tenantId,
      type: i.Type,
      number: i.InvoiceNumber ?? null,
      reference: i.Reference ?? null,
      contact: i.Contact ? { id: i.Contact.ContactID, name: i.Contact.Name } : null,
      date: iso(i.Date),
      dueDate: iso(i.DueDate),
      status: i.Status,
      subTotal: i.SubTotal,
      totalTax: i.TotalTax,
      total: i.Total,
      amountDue: i.AmountDue,
      amountPaid: i.AmountPaid,
      currency: i.CurrencyCode,
      updatedAt: iso(i.UpdatedDateUTC),
    },
    version: i.UpdatedDateUTC,
  };
}

function tenantsOf(ctx: SyncContext): string[] {
  return Tenants.parse(ctx.metadata.tenants)
    .map((t) => t.tenantId)
    .sort();
}

/** One invoice as a sync item, and its modification time when readable. */
function itemOf(tenantId: string, invoice: unknown): { item: SyncItem; updated?: number } | undefined {
  const head = Head.safeParse(invoice);
  if (!head.success) return undefined;
  const { InvoiceID: id, Status, UpdatedDateUTC: updated } = head.data;
  if (Status === 'DELETED') return { item: { kind: 'deleted', model: MODEL, id, version: updated }, updated };
  return { item: { kind: 'record', model: MODEL, id, raw: { tenantId, invoice } satisfies Raw }, updated };
}

async function listInvoices(
  ctx: SyncContext,
  tenantId: string,
  query: URLSearchParams,
  since: number | null,
) {
  const headers: Record<string, string> = { 'xero-tenant-id': tenantId, accept: 'application/json' };
  if (since !== null) headers['if-modified-since'] = new Date(since).toISOString().slice(0, 19);
  const response = await ctx.request(`api.xro/2.0/Invoices?${query}`, { headers });
  return (await readSyncJson(response, Page, DISPLAY, 'GET Invoices')).Invoices;
}

async function* run(
  ctx: SyncContext,
  checkpoint: XeroCheckpoint | null,
): AsyncGenerator<SyncPage<XeroCheckpoint>> {
  const cp: XeroCheckpoint = { tenants: { ...(checkpoint?.tenants ?? {}) } };
  for (const tenantId of tenantsOf(ctx)) {
    let { since, page } = cp.tenants[tenantId] ?? { since: null, page: 1 };
    const fresh = makeOverlapFilter();
    for (;;) {
      const query = new URLSearchParams({ page: String(page), order: 'UpdatedDateUTC ASC' });
      const invoices = await listInvoices(ctx, tenantId, query, since);
      const items: SyncItem[] = [];
      let newest = since ?? Number.NEGATIVE_INFINITY;
      for (const invoice of invoices) {
        const placed = itemOf(tenantId, invoice);
        if (!placed) continue;
        items.push(placed.item);
        if (placed.updated !== undefined) newest = Math.max(newest, placed.updated);
      }
      const mark = Number.isFinite(newest) ? newest - (newest % 1000) : null;
      const short = invoices.length < PAGE_SIZE;
      if (short || (mark !== null && mark !== since)) {
        since = mark ?? since;
        page = 1;
      } else page += 1;
      cp.tenants[tenantId] = { since, page };
      yield { items: fresh(items), checkpoint: { tenants: { ...cp.tenants } } };
      if (short) break;
    }
  }
}

/** Invoices by id, tenant by tenant; an id no tenant has is gone. */
async function refetch(ctx: SyncContext, _model: string, ids: readonly string[]): Promise<SyncItem[]> {
  const found = new Map<string, SyncItem>();
  for (const tenantId of tenantsOf(ctx)) {
    const missing = ids.filter((id) => !found.has(id));
    for (let at = 0; at < missing.length; at += ID_CHUNK) {
      const query = new URLSearchParams({ IDs: missing.slice(at, at + ID_CHUNK).join(',') });
      for (const invoice of await listInvoices(ctx, tenantId, query, null)) {
        const placed = itemOf(tenantId, invoice);
        if (placed) found.set(placed.item.id, placed.item);
      }
    }
  }
  return ids.map((id) => found.get(id) ?? { kind: 'deleted', model: MODEL, id });
}

export const xeroInvoicesSync: SyncDefinition<XeroCheckpoint> = {
  name: 'xero-invoices',
  models: [{ name: MODEL, map: mapInvoice }],
  defaultFrequencyMinutes: 60,
  scopes: [
    'accounting.transactions',
    'accounting.transactions.read',
    'accounting.invoices',
    'accounting.invoices.read',
  ],
  run,
  refetch,
};
