import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallRecord } from './calls.ts';
import { type ProviderReply, send } from './http.ts';
import type { RateLimitHit } from './rate-limits.ts';
import type { SandboxState } from './state.ts';

// The one onRequest hook of sandboxPlugin. For a route that names its endpoint key it:
// counts the call, sleeps the injected latency, applies the first terminal fault (respond,
// hang, drop), then enforces rate limits; otherwise the route answers normally.

export type RateLimitRenderer = (hit: RateLimitHit, endpoint: string) => ProviderReply;

const records = new WeakMap<FastifyRequest, CallRecord>();
const releases = new WeakMap<FastifyRequest, () => void>();

export function makeFaultHooks(state: SandboxState, rateLimited: RateLimitRenderer) {
  async function onRequest(request: FastifyRequest, reply: FastifyReply) {
    const key = request.routeOptions.config.endpoint;
    if (!key) return;
    const call = state.calls.record(key, request.method, request.url, state.clock.now());
    records.set(request, call);

    // The provider's own limits (keyed-limits.ts) see the call first and hold it until answered.
    const limit = request.routeOptions.config.limit?.(request);
    if (limit) {
      const admission = state.keyedLimits.admit(limit, state.clock.now());
      if (!admission.ok) {
        call.note = `limited:${admission.problem}`;
        const rule = {
          id: `limit:${limit.key}`,
          endpoint: key,
          limit: admission.limit,
          windowSec: Math.ceil((limit.window?.ms ?? 1000) / 1000),
          problem: admission.problem,
          windowStart: admission.resetAt - (limit.window?.ms ?? 1000),
          used: admission.limit,
        };
        return send(
          reply,
          rateLimited({ rule, retryAfterSec: admission.retryAfterSec, resetAt: admission.resetAt }, key),
        );
      }
      releases.set(request, admission.release);
      reply.raw.once('close', admission.release);
    }

    const plan = state.faults.take(key);
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);
    const terminal = plan.terminal;
    if (terminal) {
      call.note = `fault:${terminal.rule.id}`;
      const { action } = terminal;
      if (action.kind === 'respond') {
        return send(reply, { status: action.status, headers: action.headers, body: action.body ?? '' });
      }
      // Under inject() there is no real socket: a drop then ends nothing and a hang just waits.
      const socket = request.raw.socket as Socket | undefined;
      reply.hijack();
      if (action.kind === 'drop') {
        socket?.destroy?.();
        return;
      }
      if (socket?.once) {
        state.hung.add(socket);
        socket.once('close', () => state.hung.delete(socket));
      }
      return;
    }

    const hit = state.rateLimits.hit(key, state.clock.now());
    if (hit) {
      call.note = 'rate-limited';
      return send(reply, rateLimited(hit, key));
    }
  }

  async function onResponse(request: FastifyRequest, reply: FastifyReply) {
    releases.get(request)?.();
    const call = records.get(request);
    if (call) call.status = reply.statusCode;
  }

  return { onRequest, onResponse };
}
