import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GmailMessage, Mailbox } from '../datasets/gmail-mailbox.ts';
import { mailboxOf } from '../datasets/kinds.ts';
import { admitCall, withhold } from '../fault-hook.ts';
import { bearerOf, bearerToken, type ProviderReply, sandboxPrefix, send } from '../http.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { type BatchAnswer, boundaryOf, parseBatch, renderBatch } from './gmail-batch.ts';
import {
  googleError,
  googleRateLimited,
  invalidArgument,
  notFound,
  unauthenticated,
} from './google-errors.ts';

// Gmail's mailbox API over the generated mailboxes (datasets/gmail-mailbox.ts), under /google:
// users.messages.list (newest first, pageToken, maxResults ≤ 500), users.messages.get
// (format=full|metadata|minimal|raw), users.history.list (404 for a startHistoryId older than the
// week Gmail keeps), and the batch endpoint POST /batch/gmail/v1 (multipart/mixed, at most 100
// calls, each answered as its own call would be: its own status, faults and count). An account
// without a sized dataset has an empty mailbox.

const MAX_RESULTS = 500;
const MAX_BATCH = 100;
const FORMATS = ['full', 'metadata', 'minimal', 'raw'] as const;

type Auth =
  | { ok: true; accountId: string; mailbox: Mailbox | undefined; email: string }
  | { ok: false; reply: ProviderReply };

function authorize(state: SandboxState, token: string | undefined, userId: string): Auth {
  const check = checkAccessToken(state, 'google', token);
  if (!check.ok) return { ok: false, reply: unauthenticated() };
  const user = state.accounts.google.find((u) => u.sub === check.grant.accountId);
  if (!user || (userId !== 'me' && userId !== user.email)) {
    return {
      ok: false,
      reply: googleError(403, `Delegation denied for ${user?.email}`, 'forbidden', 'PERMISSION_DENIED'),
    };
  }
  return { ok: true, accountId: user.sub, email: user.email, mailbox: mailboxOf(state, user.sub) };
}

const authorizeRequest = (state: SandboxState, request: FastifyRequest) =>
  authorize(state, bearerToken(request), (request.params as { userId: string }).userId);

/** users.messages.get: the answer for one message, as a call on its own or a part of a batch. */
export function getMessage(
  state: SandboxState,
  token: string | undefined,
  call: { userId: string; id: string; format: string | undefined; metadataHeaders: readonly string[] },
): ProviderReply {
  const auth = authorize(state, token, call.userId);
  if (!auth.ok) return auth.reply;
  const format = (call.format ?? 'full') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) return invalidArgument(`Invalid value at 'format' (${format})`);
  const index = auth.mailbox?.indexOf(call.id);
  if (!auth.mailbox || index === undefined || !auth.mailbox.isLive(index)) return notFound();
  const wanted = call.metadataHeaders.map((h) => h.toLowerCase());
  return { status: 200, body: renderMessage(auth.mailbox.message(index), format, wanted) };
}

function readMaxResults(raw: unknown, fallback: number): number | ProviderReply {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) return invalidArgument(`Invalid value for "maxResults": ${raw}`);
  // Gmail caps larger values at its maximum rather than refusing them.
  return Math.min(value || fallback, MAX_RESULTS);
}

const isReply = (value: unknown): value is ProviderReply =>
  typeof value === 'object' && value !== null && 'status' in value;

export function registerGmailRoutes(app: FastifyInstance, state: SandboxState): void {
  app.addContentTypeParser(/^multipart\/mixed/i, { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  app.get(
    '/gmail/v1/users/:userId/messages',
    endpoint('google.gmail.messages.list'),
    async (request, reply) => {
      const auth = authorizeRequest(state, request);
      if (!auth.ok) return send(reply, auth.reply);
      const query = request.query as Record<string, string | undefined>;
      const limit = readMaxResults(query.maxResults, 100);
      if (isReply(limit)) return send(reply, limit);
      const { mailbox } = auth;
      if (!mailbox) return { resultSizeEstimate: 0 };
      let before = mailbox.size();
      if (query.pageToken !== undefined) {
        if (!/^\d{1,12}$/.test(query.pageToken) || Number(query.pageToken) > mailbox.size())
          return send(reply, invalidArgument('Invalid pageToken'));
        before = Number(query.pageToken);
      }
      const indexes = mailbox.newest(before, limit);
      const last = indexes.at(-1);
      const more = last !== undefined && mailbox.newest(last, 1).length > 0;
      if (indexes.length === 0) return { resultSizeEstimate: 0 };
      return {
        messages: indexes.map((index) => mailbox.ref(index)),
        ...(more ? { nextPageToken: String(last) } : {}),
        resultSizeEstimate: mailbox.live(),
      };
    },
  );

  app.get(
    '/gmail/v1/users/:userId/messages/:id',
    endpoint('google.gmail.messages.get'),
    async (request, reply) => {
      const query = request.query as Record<string, string | string[] | undefined>;
      const { userId, id } = request.params as { userId: string; id: string };
      const answer = getMessage(state, bearerToken(request), {
        userId,
        id,
        format: typeof query.format === 'string' ? query.format : undefined,
        metadataHeaders: [query.metadataHeaders ?? []].flat(),
      });
      return send(reply, answer);
    },
  );

  app.get(
    '/gmail/v1/users/:userId/history',
    endpoint('google.gmail.history.list'),
    async (request, reply) => {
      const auth = authorizeRequest(state, request);
      if (!auth.ok) return send(reply, auth.reply);
      const query = request.query as Record<string, string | undefined>;
      if (query.startHistoryId === undefined)
        return send(reply, invalidArgument('Missing required field: startHistoryId'));
      if (!/^\d{1,20}$/.test(query.startHistoryId))
        return send(reply, invalidArgument('Invalid startHistoryId'));
      const limit = readMaxResults(query.maxResults, 100);
      if (isReply(limit)) return send(reply, limit);
      const { mailbox } = auth;
      const start = Number(query.startHistoryId);
      if (!mailbox) return { historyId: String(start) };
      if (start < mailbox.oldestHistoryId(state.clock.now())) return send(reply, notFound());
      let after = start;
      if (query.pageToken !== undefined) {
        if (!/^\d{1,20}$/.test(query.pageToken)) return send(reply, invalidArgument('Invalid pageToken'));
        after = Number(query.pageToken);
      }
      const records = mailbox.historyAfter(after, limit);
      const last = records.at(-1);
      const more = last !== undefined && mailbox.historyAfter(last.id, 1).length > 0;
      const history = records.map((record) => {
        const message = mailbox.ref(record.index);
        const labelIds = mailbox.message(record.index).labelIds;
        const entry: Record<string, unknown> = { id: String(record.id), messages: [message] };
        if (record.kind === 'added') entry.messagesAdded = [{ message: { ...message, labelIds } }];
        if (record.kind === 'deleted') entry.messagesDeleted = [{ message: { ...message, labelIds } }];
        if (record.kind === 'updated')
          entry.labelsAdded = [{ message: { ...message, labelIds }, labelIds: ['STARRED'] }];
        return entry;
      });
      return {
        ...(history.length ? { history } : {}),
        ...(more ? { nextPageToken: String(last.id) } : {}),
        historyId: String(mailbox.historyId()),
      };
    },
  );

  app.post('/batch/gmail/v1', endpoint('google.gmail.batch'), async (request, reply) =>
    answerBatch(app, state, request, reply),
  );
}

const MESSAGE_GET = /^\/gmail\/v1\/users\/([^/]+)\/messages\/([^/]+)$/;

async function answerBatch(
  app: FastifyInstance,
  state: SandboxState,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const boundary = boundaryOf(request.headers['content-type']);
  const parts = boundary && typeof request.body === 'string' ? parseBatch(request.body, boundary) : undefined;
  if (!parts)
    return send(
      reply,
      invalidArgument('Failed to parse batch request: not a multipart/mixed body of application/http parts'),
    );
  if (parts.length === 0) return send(reply, invalidArgument('Batch request contains no parts'));
  if (parts.length > MAX_BATCH)
    return send(reply, invalidArgument(`Too many requests in batch: at most ${MAX_BATCH}`));
  const prefix = `${sandboxPrefix(request, 'google')}/google`;
  const answers: BatchAnswer[] = [];
  // One after another, as each would arrive on its own: faults, limits and counts apply per call.
  // messages.get, what a batch is for, is answered here without a request of its own (admitCall
  // is the fault hook's own decision); any other Gmail call goes through the app as one.
  for (const part of parts) {
    const url = part.path.startsWith('http') ? new URL(part.path) : new URL(part.path, 'http://batch');
    const path = url.pathname + url.search;
    if (!path.startsWith('/gmail/v1/')) {
      answers.push(partOf(part.contentId, notFound()));
      continue;
    }
    const authorization = part.headers.authorization ?? request.headers.authorization;
    const get = part.method === 'GET' ? MESSAGE_GET.exec(url.pathname) : null;
    if (!get) {
      const inner = await app.inject({
        method: part.method as 'GET',
        url: `${prefix}${path}`,
        headers: { authorization: authorization ?? '' },
      });
      answers.push({
        contentId: part.contentId,
        status: inner.statusCode,
        statusText: STATUS_CODES[inner.statusCode] ?? '',
        headers: {
          'Content-Type': String(inner.headers['content-type'] ?? 'application/json; charset=UTF-8'),
        },
        body: inner.body,
      });
      continue;
    }
    const admission = await admitCall(state, googleRateLimited, {
      key: 'google.gmail.messages.get',
      method: 'GET',
      url: `${prefix}${path}`,
    });
    if (admission.kind === 'hang' || admission.kind === 'drop') {
      // A call that is never answered holds back the answer to the whole batch.
      withhold(state, request, reply, admission.kind);
      return reply;
    }
    const [userId, id] = [decoded(get[1]!), decoded(get[2]!)];
    const format = url.searchParams.getAll('format');
    const answer =
      admission.kind === 'reply'
        ? admission.reply
        : userId === undefined || id === undefined
          ? invalidArgument('Invalid path')
          : getMessage(state, bearerOf(authorization), {
              userId,
              id,
              format: format.length === 1 ? format[0] : undefined,
              metadataHeaders: url.searchParams.getAll('metadataHeaders'),
            });
    admission.call.status = answer.status;
    answers.push(partOf(part.contentId, answer));
  }
  const answerBoundary = `batch_${randomBytes(12).toString('base64url')}`;
  return reply.type(`multipart/mixed; boundary=${answerBoundary}`).send(renderBatch(answers, answerBoundary));
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** A call's answer as a part of the batch's: its status, its headers, its body as it would be sent. */
function partOf(contentId: string | undefined, answer: ProviderReply): BatchAnswer {
  const text = typeof answer.body === 'string';
  const headers: Record<string, string> = {
    'Content-Type': text ? 'text/plain; charset=utf-8' : 'application/json; charset=UTF-8',
  };
  for (const [name, value] of Object.entries(answer.headers ?? {}))
    headers[name.toLowerCase() === 'content-type' ? 'Content-Type' : name] = value;
  return {
    contentId,
    status: answer.status,
    statusText: STATUS_CODES[answer.status] ?? '',
    headers,
    body: text ? (answer.body as string) : JSON.stringify(answer.body),
  };
}

function renderMessage(m: GmailMessage, format: (typeof FORMATS)[number], metadataHeaders: string[]) {
  if (m.malformed) {
    // What a broken record looks like to a client: fields of the wrong type, others missing.
    return { id: m.id, threadId: m.threadId, labelIds: 'INBOX', internalDate: 'garbled', snippet: null };
  }
  const base = {
    id: m.id,
    threadId: m.threadId,
    labelIds: m.labelIds,
    snippet: m.snippet,
    sizeEstimate: m.sizeEstimate,
    historyId: m.historyId,
    internalDate: m.internalDate,
  };
  if (format === 'minimal') return base;
  const date = new Date(Number(m.internalDate)).toUTCString().replace('GMT', '+0000');
  const headers = [
    { name: 'From', value: m.from },
    { name: 'To', value: m.to },
    { name: 'Subject', value: m.subject },
    { name: 'Date', value: date },
    { name: 'Message-ID', value: `<${m.id}@mail.example.org>` },
  ];
  if (format === 'raw') {
    const text = `${headers.map((h) => `${h.name}: ${h.value}`).join('\r\n')}\r\nContent-Type: text/plain; charset="UTF-8"\r\n\r\n${m.body}`;
    return { ...base, raw: Buffer.from(text).toString('base64url') };
  }
  if (format === 'metadata') {
    const chosen = metadataHeaders.length
      ? headers.filter((h) => metadataHeaders.includes(h.name.toLowerCase()))
      : headers;
    return {
      ...base,
      payload: { partId: '', mimeType: 'text/plain', filename: '', headers: chosen, body: { size: 0 } },
    };
  }
  const data = Buffer.from(m.body).toString('base64url');
  return {
    ...base,
    payload: {
      partId: '',
      mimeType: 'text/plain',
      filename: '',
      headers: [...headers, { name: 'Content-Type', value: 'text/plain; charset="UTF-8"' }],
      body: { size: Buffer.byteLength(m.body), data },
    },
  };
}
