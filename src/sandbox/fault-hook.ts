import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallRecord } from './calls.ts';
import { type ProviderReply, send } from './http.ts';
import type { KeyedLimit } from './keyed-limits.ts';
import type { RateLimitHit } from './rate-limits.ts';
import type { SandboxState } from './state.ts';

// The one onRequest hook of sandboxPlugin, and the admission of one call it is made of. For a
// route that names its endpoint key it: counts the call, sleeps the injected latency, applies the
// first terminal fault (respond, hang, drop), then enforces rate limits; otherwise the route
// answers normally. admitCall is the same decision for a call that arrives without a request of
// its own (a part of Google's batch): faults, limits and counts apply to it exactly as to a call
// on its own.

export type RateLimitRenderer = (hit: RateLimitHit, endpoint: string) => ProviderReply;

export type CallAdmission =
  /** Nothing stands in the way: the route answers (and sets `call.status`). */
  | { kind: 'route'; call: CallRecord }
  /** A fault or a limit answers this instead of the route. */
  | { kind: 'reply'; call: CallRecord; reply: ProviderReply }
  /** A fault says: never answer, or cut the connection. */
  | { kind: 'hang' | 'drop'; call: CallRecord };

export interface ArrivingCall {
  /** The endpoint key ('google.gmail.messages.get'). */
  key: string;
  method: string;
  url: string;
  /** The provider's own limit this call counts against. */
  limit?: KeyedLimit;
  /** Given the release of the keyed limit's place, which the caller hands back once answered. */
  hold?: (release: () => void) => void;
}

export async function admitCall(
  state: SandboxState,
  rateLimited: RateLimitRenderer,
  arriving: ArrivingCall,
): Promise<CallAdmission> {
  const { key, limit } = arriving;
  const call = state.calls.record(key, arriving.method, arriving.url, state.clock.now());

  // The provider's own limits (keyed-limits.ts) see the call first and hold it until answered.
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
      const hit = { rule, retryAfterSec: admission.retryAfterSec, resetAt: admission.resetAt };
      return { kind: 'reply', call, reply: rateLimited(hit, key) };
    }
    arriving.hold?.(admission.release);
  }

  const plan = state.faults.take(key);
  if (plan.latencyMs > 0) await sleep(plan.latencyMs);
  const terminal = plan.terminal;
  if (terminal) {
    call.note = `fault:${terminal.rule.id}`;
    const { action } = terminal;
    if (action.kind === 'respond') {
      return {
        kind: 'reply',
        call,
        reply: { status: action.status, headers: action.headers, body: action.body ?? '' },
      };
    }
    return { kind: action.kind, call };
  }

  const hit = state.rateLimits.hit(key, state.clock.now());
  if (hit) {
    call.note = 'rate-limited';
    return { kind: 'reply', call, reply: rateLimited(hit, key) };
  }
  return { kind: 'route', call };
}

/** Leaves the request unanswered: a drop cuts its connection, a hang holds it until the sandbox closes. */
export function withhold(
  state: SandboxState,
  request: FastifyRequest,
  reply: FastifyReply,
  kind: 'hang' | 'drop',
) {
  // Under inject() there is no real socket: a drop then ends nothing and a hang just waits.
  const socket = request.raw.socket as Socket | undefined;
  reply.hijack();
  if (kind === 'drop') {
    socket?.destroy?.();
    return;
  }
  if (socket?.once) {
    state.hung.add(socket);
    socket.once('close', () => state.hung.delete(socket));
  }
}

const records = new WeakMap<FastifyRequest, CallRecord>();
const releases = new WeakMap<FastifyRequest, () => void>();

export function makeFaultHooks(state: SandboxState, rateLimited: RateLimitRenderer) {
  async function onRequest(request: FastifyRequest, reply: FastifyReply) {
    const key = request.routeOptions.config.endpoint;
    if (!key) return;
    const admission = await admitCall(state, rateLimited, {
      key,
      method: request.method,
      url: request.url,
      limit: request.routeOptions.config.limit?.(request),
      hold: (release) => {
        releases.set(request, release);
        reply.raw.once('close', release);
      },
    });
    records.set(request, admission.call);
    if (admission.kind === 'reply') return send(reply, admission.reply);
    if (admission.kind === 'hang' || admission.kind === 'drop')
      withhold(state, request, reply, admission.kind);
  }

  async function onResponse(request: FastifyRequest, reply: FastifyReply) {
    releases.get(request)?.();
    const call = records.get(request);
    if (call) call.status = reply.statusCode;
  }

  return { onRequest, onResponse };
}
