// Google's batch format (https://developers.google.com/gmail/api/guides/batch): a multipart/mixed
// body whose parts are `application/http` requests; the answer is a multipart/mixed body whose
// parts are `application/http` responses, each part's Content-ID being `response-` + the
// request's.

export interface BatchPart {
  contentId: string | undefined;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface BatchAnswer {
  contentId: string | undefined;
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
}

/** The boundary of a multipart/mixed Content-Type, or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/mixed\b/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** The requests in a batch body; undefined when it is not one. */
export function parseBatch(body: string, boundary: string): BatchPart[] | undefined {
  const delimiter = `--${boundary}`;
  const chunks = body.split(delimiter);
  if (chunks.length < 2) return undefined;
  const parts: BatchPart[] = [];
  for (const chunk of chunks.slice(1)) {
    if (chunk.startsWith('--')) break;
    const [outerHead, inner] = splitHead(chunk.replace(/^\r?\n/, ''));
    const outer = readHeaders(outerHead);
    if (!/^application\/http\b/i.test(outer['content-type'] ?? '')) return undefined;
    const [innerHead, innerBody] = splitHead(inner);
    const [requestLine = '', ...headerLines] = innerHead.split(/\r?\n/);
    const match = /^([A-Z]+)\s+(\S+)(?:\s+HTTP\/\d(?:\.\d)?)?\s*$/.exec(requestLine.trim());
    if (!match) return undefined;
    parts.push({
      contentId: outer['content-id'],
      method: match[1]!,
      path: match[2]!,
      headers: readHeaders(headerLines.join('\n')),
      body: innerBody.replace(/\r?\n$/, ''),
    });
  }
  return parts;
}

export function renderBatch(answers: BatchAnswer[], boundary: string): string {
  const parts = answers.map((a) => {
    const id = a.contentId ? `Content-ID: <response-${a.contentId.replace(/^<|>$/g, '')}>\r\n` : '';
    const headers = Object.entries(a.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    return `--${boundary}\r\nContent-Type: application/http\r\n${id}\r\nHTTP/1.1 ${a.status} ${a.statusText}\r\n${headers}Content-Length: ${Buffer.byteLength(a.body)}\r\n\r\n${a.body}\r\n`;
  });
  return `${parts.join('')}--${boundary}--\r\n`;
}

function splitHead(text: string): [string, string] {
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return [text, ''];
  return [text.slice(0, match.index), text.slice(match.index + match[0].length)];
}

function readHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return headers;
}
