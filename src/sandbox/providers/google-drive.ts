import type { FastifyInstance } from 'fastify';
import { type Collection, wordsOf } from '../datasets/change-log.ts';
import { googleCollectionOf } from '../datasets/collection-kind.ts';
import { type ProviderReply, send } from '../http.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { makeRandom } from '../webhooks/random.ts';
import { decodeToken, encodeToken, googleCaller, isReply, readPageSize } from './google-auth.ts';
import { googleError } from './google-errors.ts';
import { applyFields, parseFields, type Selection } from './google-fields.ts';

// Google Drive v3 over the generated `files` dataset (datasets/change-log.ts), under /google:
//   GET /drive/v3/changes/startPageToken   {startPageToken}: changes from now on
//   GET /drive/v3/changes?pageToken=        the changes since the token, `nextPageToken` on every
//       page but the last, `newStartPageToken` on the last; a deleted file is either trashed
//       (`removed: false`, the file with `trashed: true`) or removed for good (`removed: true`, no
//       file), half each (by index); includeRemoved=false leaves the removed ones out
//   GET /drive/v3/files                     the files (q `trashed = false` or `trashed = true`)
//   GET /drive/v3/files/{fileId}            one file (a removed one: 404)
// Partial responses as Drive's: without `fields`, files carry only kind, id, name and mimeType.
// Change page tokens are decimal strings, as Drive's are.

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const EPOCH_MS = Date.UTC(2023, 5, 1);
const STEP_MS = 53_000;
const FILE_DEFAULT = 'kind,id,name,mimeType';
const FILE_DEFAULT_SELECTION = parseFields(FILE_DEFAULT)!;
const FILES_DEFAULT = parseFields(`kind,incompleteSearch,nextPageToken,files(${FILE_DEFAULT})`)!;
const CHANGES_DEFAULT = parseFields(
  `kind,nextPageToken,newStartPageToken,changes(kind,changeType,time,removed,fileId,file(${FILE_DEFAULT}))`,
)!;
const KINDS = [
  { mimeType: 'application/vnd.google-apps.folder', extension: '' },
  { mimeType: 'application/vnd.google-apps.document', extension: '' },
  { mimeType: 'application/vnd.google-apps.spreadsheet', extension: '' },
  { mimeType: 'application/pdf', extension: '.pdf' },
  { mimeType: 'image/png', extension: '.png' },
  { mimeType: 'text/plain', extension: '.txt' },
];

const invalid = (message: string) => googleError(400, message, 'invalid', 'INVALID_ARGUMENT');

/** A deleted file is trashed or removed for good: the even indexes are trashed. */
export const isTrashed = (files: Collection, index: number) => files.isDeleted(index) && index % 2 === 0;
const isRemoved = (files: Collection, index: number) => files.isDeleted(index) && index % 2 === 1;

export function registerDriveRoutes(app: FastifyInstance, state: SandboxState): void {
  const filesOf = (accountId: string) => googleCollectionOf(state, 'files', accountId);
  const selection = (raw: string | undefined, fallback: Selection): Selection | ProviderReply =>
    raw === undefined ? fallback : (parseFields(raw) ?? invalid(`Invalid field selection ${raw}`));

  app.get(
    '/drive/v3/changes/startPageToken',
    endpoint('google.drive.changes.startpagetoken'),
    async (request, reply) => {
      const caller = googleCaller(state, request);
      if (!caller.ok) return send(reply, caller.reply);
      const files = filesOf(caller.accountId);
      return {
        kind: 'drive#startPageToken',
        startPageToken: String(tokenBase(files) + (files?.position() ?? 0) + 1),
      };
    },
  );

  app.get('/drive/v3/changes', endpoint('google.drive.changes.list'), async (request, reply) => {
    const caller = googleCaller(state, request);
    if (!caller.ok) return send(reply, caller.reply);
    const query = request.query as Record<string, string | undefined>;
    const fields = selection(query.fields, CHANGES_DEFAULT);
    if (isReply(fields)) return send(reply, fields);
    const limit = readPageSize(query.pageSize, DEFAULT_PAGE, MAX_PAGE, 'pageSize', invalid);
    if (isReply(limit)) return send(reply, limit);
    if (query.pageToken === undefined)
      return send(reply, googleError(400, 'Required parameter: pageToken', 'required', 'INVALID_ARGUMENT'));
    const files = filesOf(caller.accountId);
    const position = files?.position() ?? 0;
    const base = tokenBase(files);
    const token = Number(query.pageToken) - base;
    if (!/^\d{1,12}$/.test(query.pageToken) || token < 1 || token > position + 1)
      return send(reply, invalid(`Invalid Value: pageToken ${query.pageToken}`));
    const includeRemoved = query.includeRemoved !== 'false';
    const entries = files ? files.changesAfter(token - 1, limit + 1) : [];
    const page = entries.slice(0, limit);
    const changes = page
      .filter((entry) => includeRemoved || !isRemoved(files!, entry.index))
      .map((entry) => {
        const removed = isRemoved(files!, entry.index);
        return {
          kind: 'drive#change',
          changeType: 'file',
          time: new Date(entry.at).toISOString(),
          removed,
          fileId: fileIdOf(files!, entry.index),
          ...(removed ? {} : { file: renderFile(files!, entry.index, caller.email) }),
        };
      });
    const more = entries.length > limit;
    return applyFields(
      {
        kind: 'drive#changeList',
        ...(more
          ? { nextPageToken: String(base + page.at(-1)!.position + 1) }
          : { newStartPageToken: String(base + position + 1) }),
        changes,
      },
      fields,
    );
  });

  app.get('/drive/v3/files', endpoint('google.drive.files.list'), async (request, reply) => {
    const caller = googleCaller(state, request);
    if (!caller.ok) return send(reply, caller.reply);
    const query = request.query as Record<string, string | undefined>;
    const fields = selection(query.fields, FILES_DEFAULT);
    if (isReply(fields)) return send(reply, fields);
    const limit = readPageSize(query.pageSize, DEFAULT_PAGE, MAX_PAGE, 'pageSize', invalid);
    if (isReply(limit)) return send(reply, limit);
    let trashed: boolean | undefined;
    if (query.q !== undefined) {
      const match = /^\s*trashed\s*=\s*(true|false)\s*$/.exec(query.q);
      if (!match) return send(reply, invalid('Invalid Value: q (the sandbox reads only "trashed = …")'));
      trashed = match[1] === 'true';
    }
    const files = filesOf(caller.accountId);
    let from = 0;
    if (query.pageToken !== undefined) {
      const token = decodeToken(query.pageToken);
      if (!files || typeof token?.from !== 'number' || token.e !== files.prefix)
        return send(reply, invalid('Invalid Value: pageToken'));
      from = token.from;
    }
    const indexes: number[] = [];
    let next: number | undefined;
    if (files) {
      for (let index = from; index < files.size(); index++) {
        if (isRemoved(files, index)) continue;
        if (trashed !== undefined && isTrashed(files, index) !== trashed) continue;
        if (indexes.length === limit) {
          next = index;
          break;
        }
        indexes.push(index);
      }
    }
    return applyFields(
      {
        kind: 'drive#fileList',
        incompleteSearch: false,
        ...(next !== undefined ? { nextPageToken: encodeToken({ e: files!.prefix, from: next }) } : {}),
        files: indexes.map((index) => renderFile(files!, index, caller.email)),
      },
      fields,
    );
  });

  app.get('/drive/v3/files/:fileId', endpoint('google.drive.files.get'), async (request, reply) => {
    const caller = googleCaller(state, request);
    if (!caller.ok) return send(reply, caller.reply);
    const query = request.query as Record<string, string | undefined>;
    const fields = selection(query.fields, FILE_DEFAULT_SELECTION);
    if (isReply(fields)) return send(reply, fields);
    const { fileId } = request.params as { fileId: string };
    const files = filesOf(caller.accountId);
    const index = files && fileIndexOf(files, fileId);
    if (!files || index === undefined || isRemoved(files, index))
      return send(reply, googleError(404, `File not found: ${fileId}.`, 'notFound', 'NOT_FOUND'));
    return applyFields(renderFile(files, index, caller.email), fields);
  });
}

function fileIndexOf(files: Collection, id: string): number | undefined {
  const match = /^1([0-9a-f]{6})([0-9a-z]{8})Drv$/.exec(id);
  if (!match || match[1] !== files.prefix) return undefined;
  const index = Number.parseInt(match[2]!, 36);
  return index < files.size() ? index : undefined;
}

/**
 * Change tokens count up from a base that grows with the time the dataset was sized, so a token
 * of an earlier sizing is below the range of the current one and refused, as a stale one is.
 */
function tokenBase(files: Collection | undefined): number {
  return files ? (Math.floor(files.sizedAt / 1000) % 1_000_000) * 1000 : 0;
}

export function fileIdOf(files: Collection, index: number): string {
  return `1${files.prefix}${index.toString(36).padStart(8, '0')}Drv`;
}

export function renderFile(files: Collection, index: number, email: string): Record<string, unknown> {
  const id = fileIdOf(files, index);
  const version = files.version(index);
  const trashed = isTrashed(files, index);
  if (files.isMalformed(index) && !trashed)
    return { kind: 'drive#file', id, name: null, mimeType: 7, modifiedTime: 'garbled', version: 'x' };
  const random = makeRandom(`${files.spec.seed}:file:${index}`);
  const kind = KINDS[Math.floor(random.next() * KINDS.length)]!;
  const created = EPOCH_MS + index * STEP_MS;
  const modified = files.changedAt(index) ?? created;
  const name = `${wordsOf(random, 2).join(' ')} ${index}${version > 0 ? ` v${version + 1}` : ''}${kind.extension}`;
  const googleType = kind.mimeType.startsWith('application/vnd.google-apps');
  const size = 1_000 + Math.floor(random.next() * 900_000) + version * 17;
  return {
    kind: 'drive#file',
    id,
    name,
    mimeType: kind.mimeType,
    parents: [index < 6 ? '0AFakeRootFolderUk9PVA' : fileIdOf(files, index - (index % 6))],
    trashed,
    starred: random.next() < 0.1,
    createdTime: new Date(created).toISOString(),
    modifiedTime: new Date(modified).toISOString(),
    // Drive's version goes up with every change to the file, trashing included.
    version: String(1 + (index % 7) + version + (trashed ? 1 : 0)),
    ...(googleType ? {} : { size: String(size), md5Checksum: md5Like(random) }),
    owners: [{ kind: 'drive#user', displayName: email.split('@')[0], emailAddress: email, me: true }],
    webViewLink: `https://drive.google.com/file/d/${id}/view`,
  };
}

function md5Like(random: ReturnType<typeof makeRandom>): string {
  return random.chars(32, '0123456789abcdef');
}
