import { numberFlag, type OperatorCommand } from '../command.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const connectCommands: OperatorCommand[] = [
  {
    words: ['connect'],
    summary: 'make a connect link for an end user, print it, and wait for the outcome',
    args: ['integration'],
    options: {
      'end-user': { type: 'string', description: 'the host app’s id of the person connecting (required)' },
      timeout: { type: 'string', description: 'seconds to wait for the outcome (default 600)' },
      'no-wait': { type: 'boolean', description: 'print the link and exit' },
    },
    async run({ client, out, args, flags }) {
      if (typeof flags['end-user'] !== 'string') throw new Error('--end-user <id> is required');
      const session = await client.connectSessions.create({
        integration: args.integration!,
        endUserId: flags['end-user'],
      });
      if (!out.json) out.line(`Open this link to connect (expires ${session.expiresAt}):\n${session.url}`);
      if (flags['no-wait']) {
        if (out.json) out.record(session);
        return 0;
      }
      const deadline = Date.now() + numberFlag(flags.timeout, 600, 'timeout') * 1000;
      if (!out.json) out.line('waiting for the outcome… (Ctrl-C to stop waiting)');
      for (;;) {
        const state = await client.connectSessions.get(session.id);
        if (state.status !== 'pending') {
          if (out.json) out.record({ ...session, ...state });
          else if (state.status === 'connected') out.line(`connected: ${state.connectionId}`);
          else
            out.line(
              `failed: ${state.error?.code ?? 'unknown'}${state.error?.message ? `: ${state.error.message}` : ''}`,
            );
          return state.status === 'connected' ? 0 : 1;
        }
        if (Date.now() > deadline) {
          if (out.json) out.record({ ...session, status: 'pending' });
          else out.line('still pending: stopped waiting (the link works until it expires)');
          return 1;
        }
        await sleep(1000);
      }
    },
  },
];
