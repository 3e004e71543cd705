import type { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';

/**
 * A closed stdout or stderr (`tether serve | head -1`, a log shipper that went
 * away) must never stop tether. Two things went wrong without this module:
 * the first console line after the reader left threw EPIPE as an uncaught
 * exception, and pino's default destination, flushing at exit, retried the
 * failed write forever (sonic-boom's flushSync loops on EPIPE), so the
 * process neither served nor honoured SIGTERM.
 *
 * Output is best effort: a stream that fails is marked closed and left alone
 * from then on, and a log line that cannot be written is dropped.
 */
const closed = new WeakSet<NodeJS.WritableStream>();

/** Most bytes queued for a stalled reader before further log lines are dropped. */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/** Makes write errors on a stream (EPIPE, EIO, …) mark it closed instead of crashing the process. */
export function tolerateClosedOutput(stream: NodeJS.WritableStream): void {
  if (!stream.listeners('error').includes(markClosed)) stream.on('error', markClosed);
}

function markClosed(this: NodeJS.WritableStream): void {
  closed.add(this);
}

/**
 * pino's destination: stdout, never waiting on a pipe's reader and without pino's
 * exit-time flush. A reader that stalls costs at most MAX_QUEUED_BYTES.
 */
export function makeOutputDestination(stream: Writable = process.stdout): DestinationStream {
  tolerateClosedOutput(stream);
  return {
    write(line: string) {
      if (closed.has(stream) || stream.writableLength > MAX_QUEUED_BYTES) return;
      stream.write(line);
    },
  };
}
