import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { cacheSettingsFromEnvironment } from './tether.ts';

/** A `tether serve` in its own process, for tests of several instances on one database. */
export interface TetherProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | null>;
}

export function spawnTether(env: Record<string, string>, startTimeoutMs?: number): Promise<TetherProcess> {
  return spawnListening(
    ['src/main.ts', 'serve'],
    {
      PORT: '0',
      TETHER_SANDBOX: '0',
      TETHER_LOG_LEVEL: 'warn',
      ...cacheSettingsFromEnvironment(),
      ...env,
    },
    startTimeoutMs,
  );
}

/** Any of our servers in a child process; resolves once it prints "listening on <url> ". */
export async function spawnListening(
  args: string[],
  env: Record<string, string>,
  /** A busy machine can take long to start PGlite and migrate. */
  startTimeoutMs = 30_000,
): Promise<TetherProcess> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tether did not start:\n${output}`)), startTimeoutMs);
    const check = () => {
      const match = /listening on (http:\/\/[^\s]+) /.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', () => reject(new Error(`tether exited:\n${output}`)));
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A port nothing listens on right now (a process must know its public URL before it listens). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
