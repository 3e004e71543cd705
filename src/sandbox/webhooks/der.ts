// The few ASN.1 DER encoders x509.ts needs to write a certificate (X.690). Each returns the
// complete tag-length-value bytes.

export function tlv(tag: number, content: Uint8Array): Buffer {
  const length: number[] = [];
  if (content.length < 0x80) length.push(content.length);
  else {
    for (let v = content.length; v > 0; v >>>= 8) length.unshift(v & 0xff);
    length.unshift(0x80 | length.length);
  }
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

export const sequence = (...items: Uint8Array[]) => tlv(0x30, Buffer.concat(items));
export const set = (...items: Uint8Array[]) => tlv(0x31, Buffer.concat(items));
export const explicit = (n: number, content: Uint8Array) => tlv(0xa0 + n, content);
export const nullValue = () => Buffer.from([0x05, 0x00]);
export const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
export const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
export const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printableString = (s: string) => tlv(0x13, Buffer.from(s, 'ascii'));

/** A non-negative integer from big-endian bytes (a leading 0 keeps it positive). */
export function integer(bytes: Uint8Array | number): Buffer {
  let b =
    typeof bytes === 'number' ? Buffer.from(bytes.toString(16).padStart(2, '0'), 'hex') : Buffer.from(bytes);
  while (b.length > 1 && b[0] === 0 && b[1]! < 0x80) b = b.subarray(1);
  return tlv(0x02, b[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a! + b!];
  for (const part of rest) {
    const chunk = [part & 0x7f];
    for (let v = part >>> 7; v > 0; v >>>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime for 1950-2049, GeneralizedTime otherwise, as RFC 5280 requires. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}
