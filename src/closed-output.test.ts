import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_QUEUED_BYTES, makeOutputDestination } from './closed-output.ts';

describe('makeOutputDestination', () => {
  it('stops writing to a stream whose reader went away, and never throws', async () => {
    const written: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        written.push(String(chunk));
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const destination = makeOutputDestination(stream);
    destination.write('first\n');
    await new Promise((resolve) => stream.once('close', resolve));
    destination.write('second\n');
    destination.write('third\n');
    expect(written).toEqual(['first\n']);
  });

  it('drops lines instead of queueing without bound while the reader stalls', () => {
    const stream = new Writable({ write() {} }); // never calls back: a reader that stopped reading
    const destination = makeOutputDestination(stream);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 8 * 1024; i++) destination.write(line); // 8 MiB offered
    expect(stream.writableLength).toBeLessThanOrEqual(MAX_QUEUED_BYTES + line.length);
  });
});
