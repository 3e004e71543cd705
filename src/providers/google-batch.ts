import { randomBytes } from 'node:crypto';

// Google's batch requests (https://developers.google.com/gmail/api/guides/batch), client side:
// several GET calls in one multipart/mixed POST; the answer holds one HTTP response per call,
// matched back by Content-ID.

export interface BatchResult {
  status: number;
  body: string;
}

export function buildBatch(paths: readonly string[]): { contentType: string; body: string } {
  const boundary = `batch_${randomBytes(12).toString('hex')}`;
  const parts = paths.map(
    (path, i) =>
      `--${boundary}\r\nContent-Type: application/http\r\nContent-ID: <item${i}>\r\n\r\nGET ${path}\r\n\r\n`,
  );
  return {
    contentType: `multipart/mixed; boundary=${boundary}`,
    body: `${parts.join('')}--${boundary}--\r\n`,
  };
}

/** One result per requested path, in request order; undefined where the answer has none. */
export function readBatch(
  contentType: string | null,
  body: string,
  count: number,
): (BatchResult | undefined)[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const results: (BatchResult | undefined)[] = new Array(count).fill(undefined);
  const delimiter = boundary?.[1] ?? boundary?.[2];
  if (!delimiter) return results;
  for (const part of body.split(`--${delimiter}`).slice(1)) {
    if (part.startsWith('--')) break;
    const id = /Content-ID:\s*<response-item(\d+)>/i.exec(part);
    const status = /HTTP\/1\.1 (\d{3})/.exec(part);
    if (!id || !status) continue;
    const head = part.indexOf('HTTP/1.1');
    const split = /\r?\n\r?\n/.exec(part.slice(head));
    const index = Number(id[1]);
    if (index >= count) continue;
    results[index] = {
      status: Number(status[1]),
      body: split ? part.slice(head + split.index + split[0].length).replace(/\r?\n$/, '') : '',
    };
  }
  return results;
}
