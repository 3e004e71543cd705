import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SyncContext, SyncDefinition, SyncItem } from '../syncs/definition.ts';
import { RawItems, readGoogleJson } from './google-sync-http.ts';

/**
 * Google Drive `files`: the files the account can see, trashed ones left out.
 *
 *   full: changes.getStartPageToken S first, then files.list pages (q `trashed = false`); when the
 *         last page is stored the records the pass did not see are tombstones, and the sync
 *         carries on from S
 *   incremental: changes.list from the stored page token; a change with `removed: true` (the file
 *         is gone, or no longer shared) or a trashed file is a tombstone, any other is the file
 *         as it is now; the last page's newStartPageToken is next
 *   a page token Drive refuses (400, 404, 410): a new full pass, by itself
 *
 * Changes made while a full pass runs are after S, so the changes run that follows replays them;
 * a file's `version` (Drive raises it on every change) keeps the replay from regressing anything.
 */

export type DriveCheckpoint =
  | { phase: 'full'; passId: string; startPageToken: string; pageToken: string | null }
  | { phase: 'changes'; pageToken: string };

const MODEL = 'files';
const PAGE = 1000;
const FILE_FIELDS =
  'id,name,mimeType,parents,trashed,starred,createdTime,modifiedTime,version,size,md5Checksum,owners(emailAddress),webViewLink';

const File = z.object({
  id: z.string().min(1),
  name: z.string(),
  mimeType: z.string().min(1),
  parents: z.array(z.string()).optional(),
  trashed: z.boolean().optional(),
  starred: z.boolean().optional(),
  createdTime: z.iso.datetime({ offset: true }),
  modifiedTime: z.iso.datetime({ offset: true }),
  version: z.string().regex(/^\d{1,19}$/),
  size: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
  md5Checksum: z.string().optional(),
  owners: z.array(z.object({ emailAddress: z.string().optional() })).optional(),
  webViewLink: z.string().optional(),
});

const StartToken = z.object({ startPageToken: z.string().min(1) });
const FilesPage = z.object({ files: RawItems.default([]), nextPageToken: z.string().optional() });
const ChangesPage = z.object({
  changes: z
    .array(
      z.looseObject({
        changeType: z.string().optional(),
        removed: z.boolean().optional(),
        fileId: z.string().min(1).optional(),
        file: z.looseObject({ id: z.string().min(1), trashed: z.unknown().optional() }).optional(),
      }),
    )
    .default([]),
  nextPageToken: z.string().optional(),
  newStartPageToken: z.string().optional(),
});

function mapFile(raw: unknown) {
  const f = File.parse(raw);
  return {
    data: {
      id: f.id,
      name: f.name,
      mimeType: f.mimeType,
      parents: f.parents ?? [],
      starred: f.starred ?? false,
      createdTime: f.createdTime,
      modifiedTime: f.modifiedTime,
      version: f.version,
      size: f.size === undefined ? null : Number(f.size),
      md5Checksum: f.md5Checksum ?? null,
      owners: (f.owners ?? []).map((o) => o.emailAddress ?? null),
      webViewLink: f.webViewLink ?? null,
    },
    version: f.version,
  };
}

/** A file as a sync item: a trashed one is a tombstone (the full pass leaves trashed files out too). */
function fileItem(file: { id: string; trashed?: unknown; version?: unknown }): SyncItem {
  if (file.trashed === true) {
    const version = typeof file.version === 'string' && /^\d{1,19}$/.test(file.version) ? file.version : null;
    return { kind: 'deleted', model: MODEL, id: file.id, version };
  }
  return { kind: 'record', model: MODEL, id: file.id, raw: file };
}

async function startFullPass(ctx: SyncContext): Promise<DriveCheckpoint> {
  const start = await readGoogleJson(
    await ctx.request('drive/v3/changes/startPageToken'),
    StartToken,
    'changes.getStartPageToken',
  );
  return {
    phase: 'full',
    passId: randomBytes(8).toString('hex'),
    startPageToken: start.startPageToken,
    pageToken: null,
  };
}

const refused = (status: number) => status === 400 || status === 404 || status === 410;

async function* run(ctx: SyncContext, checkpoint: DriveCheckpoint | null) {
  let cp = checkpoint ?? (await startFullPass(ctx));
  for (;;) {
    if (cp.phase === 'full') {
      const query = new URLSearchParams({
        pageSize: String(PAGE),
        q: 'trashed = false',
        fields: `nextPageToken,files(${FILE_FIELDS})`,
      });
      if (cp.pageToken) query.set('pageToken', cp.pageToken);
      const response = await ctx.request(`drive/v3/files?${query}`);
      if (refused(response.status) && cp.pageToken) {
        await response.body?.cancel();
        cp = await startFullPass(ctx);
        continue;
      }
      const page = await readGoogleJson(response, FilesPage, 'files.list');
      const complete = page.nextPageToken === undefined;
      const next: DriveCheckpoint = complete
        ? { phase: 'changes', pageToken: cp.startPageToken }
        : { ...cp, pageToken: page.nextPageToken! };
      yield {
        items: page.files.map(fileItem),
        checkpoint: next,
        fullPass: { id: cp.passId, models: [MODEL], complete },
      };
      cp = next;
      if (complete) return;
    } else {
      const query = new URLSearchParams({
        pageToken: cp.pageToken,
        pageSize: String(PAGE),
        includeRemoved: 'true',
        spaces: 'drive',
        fields: `nextPageToken,newStartPageToken,changes(changeType,removed,fileId,file(${FILE_FIELDS}))`,
      });
      const response = await ctx.request(`drive/v3/changes?${query}`);
      if (refused(response.status)) {
        await response.body?.cancel();
        cp = await startFullPass(ctx);
        continue;
      }
      const page = await readGoogleJson(response, ChangesPage, 'changes.list');
      const items: SyncItem[] = [];
      for (const change of page.changes) {
        // Shared drives' own changes (changeType "drive") are not files.
        if (change.changeType !== undefined && change.changeType !== 'file') continue;
        const id = change.fileId ?? change.file?.id;
        if (!id) continue;
        if (change.removed || !change.file) items.push({ kind: 'deleted', model: MODEL, id });
        else items.push(fileItem(change.file));
      }
      const token = page.nextPageToken ?? page.newStartPageToken;
      if (token === undefined)
        throw new Error('Google Drive gave neither nextPageToken nor newStartPageToken.');
      const next: DriveCheckpoint = { phase: 'changes', pageToken: token };
      yield { items, checkpoint: next };
      cp = next;
      if (page.nextPageToken === undefined) return;
    }
  }
}

/** Files by id (failed records of an earlier run): files.get each; a 404 means it is gone. */
async function refetch(ctx: SyncContext, _model: string, ids: readonly string[]): Promise<SyncItem[]> {
  const items: SyncItem[] = [];
  for (const id of ids) {
    const response = await ctx.request(
      `drive/v3/files/${encodeURIComponent(id)}?${new URLSearchParams({ fields: FILE_FIELDS })}`,
    );
    if (response.status === 404) {
      await response.body?.cancel();
      items.push({ kind: 'deleted', model: MODEL, id });
      continue;
    }
    items.push(fileItem(await readGoogleJson(response, z.looseObject({ id: z.string() }), 'files.get')));
  }
  return items;
}

export const driveFilesSync: SyncDefinition<DriveCheckpoint> = {
  name: 'drive-files',
  models: [{ name: MODEL, map: mapFile }],
  defaultFrequencyMinutes: 30,
  scopes: [
    'https://www.googleapis.com/auth/drive.readonly',
    'https://www.googleapis.com/auth/drive',
    'https://www.googleapis.com/auth/drive.metadata.readonly',
    'https://www.googleapis.com/auth/drive.metadata',
  ],
  run,
  refetch,
};
