import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// `tether serve` as people start it: in its own process on the embedded default, with its
// output piped somewhere, through npm. Waits are for conditions (a port answers, a process is
// gone), each with a generous deadline that only a broken tether reaches.

const repoRoot = new URL('..', import.meta.url).pathname;
/** Starting an embedded tether (PGlite, migrations) can take a while on a busy machine. */
const PROCESS_TEST = { timeout: 120_000 };
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-serve-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function start(command: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

describe('tether serve in its own process', () => {
  it(
    'keeps answering and stops on SIGTERM when its stdout and stderr are closed early',
    PROCESS_TEST,
    async () => {
      const port = await freePort();
      const child = start(process.execPath, ['src/main.ts', 'serve'], {
        PORT: String(port),
        TETHER_DATA_DIR: tempDataDir(),
        TETHER_LOG_LEVEL: 'info',
      });
      // The reader goes away before tether writes a line, as `tether serve | head -0` would.
      child.stdout!.destroy();
      child.stderr!.destroy();
      const base = `http://127.0.0.1:${port}`;
      await waitFor('tether answers /healthz', () => answers(`${base}/healthz`));
      // Every request is logged (level info): each of those writes meets the closed pipe.
      for (let i = 0; i < 20; i++) {
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
      }
      child.kill('SIGTERM');
      expect(await exitOf(child)).toBe(0);
    },
  );

  it(
    'stops when the npm process that started it is killed, freeing the port and the data dir',
    PROCESS_TEST,
    async () => {
      const port = await freePort();
      const dataDir = tempDataDir();
      const npm = start('npm', ['start', '--silent'], { PORT: String(port), TETHER_DATA_DIR: dataDir });
      const base = `http://127.0.0.1:${port}`;
      await waitFor('tether answers /healthz', () => answers(`${base}/healthz`));
      const lockFile = join(dataDir, 'tether.pid');
      const server = Number(readFileSync(lockFile, 'utf8'));
      cleanups.push(() => {
        if (isAlive(server)) process.kill(server, 'SIGKILL');
      });
      expect(server).not.toBe(npm.pid);

      npm.kill('SIGTERM');
      await exitOf(npm);
      await waitFor('the server process is gone', () => !isAlive(server), 30_000);
      expect(existsSync(lockFile)).toBe(false);
      expect(await answers(`${base}/healthz`)).toBe(false);
    },
  );

  it('says in one line at start that the sandbox is on', PROCESS_TEST, async () => {
    const child = start(process.execPath, ['src/main.ts', 'serve'], {
      PORT: '0',
      TETHER_DATA_DIR: tempDataDir(),
      TETHER_LOG_LEVEL: 'warn',
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await waitFor('tether says where it listens', () => output.includes('listening on'));
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    const lines = output.split('\n').filter((line) => line.startsWith('tether:') && /sandbox/i.test(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('/sandbox/_control/webhooks/config');
  });
});
