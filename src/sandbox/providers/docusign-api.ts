import type { FastifyInstance, FastifyReply } from 'fastify';
import { type RecordSet, type RecordState, recordRandom } from '../datasets/record-set.ts';
import { recordSetOf } from '../datasets/record-set-kinds.ts';
import { bearerToken } from '../http.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { AUTH_FAILED, notMember } from './docusign.ts';

/**
 * DocuSign's envelope status changes over the generated datasets (one per API account,
 * `docusign/envelopes`), at the account's base_uri: GET /restapi/v2.1/accounts/{accountId}/envelopes
 * with `from_date` (required: 400 without it), `to_date`, `start_position`/`count` (≤ 100),
 * `order=asc|desc` (default desc) by status change; the answer's numbers are strings
 * (`resultSetSize`, `startPosition`, `endPosition`, `totalSetSize`, `nextUri`) and `envelopes`
 * is left out when there are none, as DocuSign does. `envelope_ids=` lists those envelopes
 * without a date. A removed envelope comes back voided; an updated one has moved on in its life.
 */

const MAX_COUNT = 100;
const STAGES = ['sent', 'delivered', 'completed'] as const;
const SUBJECTS = [
  'Please sign: NDA',
  'Offer letter',
  'Master services agreement',
  'Lease renewal',
  'Invoice approval',
];

export function registerDocusignApiRoutes(app: FastifyInstance, state: SandboxState): void {
  app.get(
    '/restapi/v2.1/accounts/:accountId/envelopes',
    endpoint('docusign.envelopes'),
    async (request, reply) => {
      const check = checkAccessToken(state, 'docusign', bearerToken(request));
      if (!check.ok) return reply.code(401).send(AUTH_FAILED);
      const { accountId } = request.params as { accountId: string };
      const user = state.accounts.docusign.find((u) => u.sub === check.grant.accountId);
      if (!user?.accounts.some((a) => a.accountId === accountId)) return notMember(reply);
      const query = request.query as Record<string, string | undefined>;
      const set = recordSetOf(state, 'docusign', 'envelopes', accountId);

      if (query.envelope_ids !== undefined) {
        const wanted = query.envelope_ids.split(',').map((id) => id.trim().toLowerCase());
        const found = set
          ? wanted.flatMap((id) => {
              const index = set.indexOf(id.replace(/-/g, '').slice(0, 24));
              return index === undefined ? [] : [renderEnvelope(set, set.state(index))];
            })
          : [];
        return listing(found, 0, found.length, accountId, query);
      }

      if (query.from_date === undefined)
        return invalidParameter(reply, "A value for 'from_date' must be set.");
      const from = readDate(query.from_date);
      if (from === undefined)
        return invalidParameter(reply, `The from_date "${query.from_date}" is not a date.`);
      const to = query.to_date === undefined ? undefined : readDate(query.to_date);
      if (query.to_date !== undefined && to === undefined)
        return invalidParameter(reply, `The to_date "${query.to_date}" is not a date.`);
      const start = query.start_position === undefined ? 0 : Number(query.start_position);
      const count = query.count === undefined ? MAX_COUNT : Number(query.count);
      if (!(Number.isInteger(start) && start >= 0) || !(Number.isInteger(count) && count >= 1))
        return invalidParameter(reply, 'start_position and count must be whole numbers (count at least 1).');
      const order = (query.order ?? 'desc').toLowerCase();
      if (order !== 'asc' && order !== 'desc')
        return invalidParameter(reply, `The order "${query.order}" is not asc or desc.`);

      const page: unknown[] = [];
      let total = 0;
      if (set && order === 'asc' && to === undefined) {
        // The common case (a sync reading forward), counted without walking the whole set.
        total = set.countModifiedAfter(from - 1);
        let skipped = 0;
        for (const index of set.modifiedAfter(from - 1)) {
          if (skipped++ < start) continue;
          if (page.length >= Math.min(count, MAX_COUNT)) break;
          page.push(renderEnvelope(set, set.state(index)));
        }
      } else if (set) {
        // Status changed at or after from_date (and before to_date).
        const indexes =
          order === 'asc'
            ? set.modifiedAfter(from - 1)
            : set.modifiedBefore(to === undefined ? undefined : to);
        for (const index of indexes) {
          const at = set.state(index).modifiedAt;
          if (order === 'desc' && at < from) break;
          if (to !== undefined && at >= to) {
            if (order === 'asc') break;
            continue;
          }
          if (total >= start && page.length < Math.min(count, MAX_COUNT))
            page.push(renderEnvelope(set, set.state(index)));
          total++;
        }
      }
      return listing(page, start, total, accountId, query);
    },
  );
}

function listing(
  envelopes: unknown[],
  start: number,
  total: number,
  accountId: string,
  query: Record<string, string | undefined>,
) {
  const end = start + envelopes.length - 1;
  const more = end + 1 < total;
  const next = new URLSearchParams(
    Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
  );
  next.set('start_position', String(end + 1));
  return {
    resultSetSize: String(envelopes.length),
    startPosition: String(start),
    endPosition: String(Math.max(end, start)),
    totalSetSize: String(total),
    nextUri: more ? `/accounts/${accountId}/envelopes?${next}` : '',
    previousUri: '',
    ...(envelopes.length > 0 ? { envelopes } : {}),
  };
}

function readDate(value: string): number | undefined {
  const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(at) ? undefined : at;
}

/** DocuSign's timestamps carry seven fractional digits. */
export function docusignDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

export function envelopeId(record: RecordState): string {
  const k = `${record.key}00000000`;
  return `${k.slice(0, 8)}-${k.slice(8, 12)}-${k.slice(12, 16)}-${k.slice(16, 20)}-${k.slice(20, 32)}`;
}

export function renderEnvelope(set: RecordSet, record: RecordState) {
  const random = recordRandom(set, 'envelope', record.index);
  const subject = SUBJECTS[Math.floor(random.next() * SUBJECTS.length)]!;
  const firstStage = Math.floor(random.next() * 2);
  const stage = STAGES[Math.min(STAGES.length - 1, firstStage + record.version)]!;
  const status = record.removed ? 'voided' : stage;
  const id = envelopeId(record);
  if (record.malformed)
    return { envelopeId: id, status: 42, statusChangedDateTime: 'soon', emailSubject: null };
  return {
    envelopeId: id,
    status,
    emailSubject: `${subject} #${record.index}`,
    createdDateTime: docusignDate(record.createdAt),
    sentDateTime: docusignDate(record.createdAt + 60_000),
    statusChangedDateTime: docusignDate(record.modifiedAt),
    lastModifiedDateTime: docusignDate(record.modifiedAt),
    ...(status === 'completed' ? { completedDateTime: docusignDate(record.modifiedAt) } : {}),
    ...(status === 'voided'
      ? { voidedDateTime: docusignDate(record.modifiedAt), voidedReason: 'Voided by the sender.' }
      : {}),
    envelopeUri: `/envelopes/${id}`,
    isSignatureProviderEnvelope: 'false',
  };
}

function invalidParameter(reply: FastifyReply, detail: string) {
  return reply.code(400).send({
    errorCode: 'INVALID_REQUEST_PARAMETER',
    message: `The request contained at least one invalid parameter. ${detail}`,
  });
}
