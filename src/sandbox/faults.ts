import { endpointMatches } from './route-config.ts';
import { makeRuleList } from './rule-list.ts';
import { makeRandom, type Random } from './webhooks/random.ts';

// Fault rules say how an endpoint misbehaves. A rule covers an endpoint pattern and fires for
// the next `times` matching calls (then disappears), on a share `rate` of calls (drawn from the
// sandbox's seeded generator, so a seeded run fails the same calls every time), or on every call
// until cleared. Latency rules add up and let the call carry on; the first terminal rule
// (respond, hang, drop) decides the answer.

export type FaultAction =
  | { kind: 'respond'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'latency'; ms: number }
  /** Never answer; the connection stays open until the client gives up (or the sandbox closes). */
  | { kind: 'hang' }
  /** Destroy the socket without an answer: the client sees a connection reset. */
  | { kind: 'drop' };

export interface FaultRuleInput {
  endpoint: string;
  action: FaultAction;
  /** Fire for this many matching calls, then remove the rule. Unset: until cleared. */
  times?: number;
  /** Fire on this share of matching calls (0..1). Unset: on every matching call. */
  rate?: number;
}

export interface FaultRule extends FaultRuleInput {
  id: string;
  /** Calls this rule has fired on. */
  hits: number;
}

export type TerminalAction = Exclude<FaultAction, { kind: 'latency' }>;

export interface FaultPlan {
  latencyMs: number;
  terminal: { rule: FaultRule; action: TerminalAction } | null;
}

export interface FaultStore {
  add(input: FaultRuleInput): FaultRule;
  list(): FaultRule[];
  remove(id: string): boolean;
  clear(): void;
  /** Decides what happens to one arriving call, consuming `times` of the rules that fire. */
  take(endpoint: string): FaultPlan;
}

export function makeFaultStore(seed: string): FaultStore {
  const rules = makeRuleList<FaultRuleInput, FaultRule>('flt', (input, id) => ({ ...input, id, hits: 0 }));
  let random: Random = makeRandom(`${seed}:faults`);
  const fires = (rule: FaultRule) => rule.rate === undefined || random.next() < rule.rate;
  const consume = (rule: FaultRule) => {
    rule.hits += 1;
    if (rule.times !== undefined && rule.hits >= rule.times) rules.remove(rule.id);
  };

  return {
    add: rules.add,
    list: rules.list,
    remove: rules.remove,
    clear() {
      rules.clear();
      random = makeRandom(`${seed}:faults`);
    },
    take(endpoint) {
      const plan: FaultPlan = { latencyMs: 0, terminal: null };
      for (const rule of rules.live()) {
        if (!endpointMatches(rule.endpoint, endpoint) || !fires(rule)) continue;
        const { action } = rule;
        if (action.kind === 'latency') {
          plan.latencyMs += action.ms;
          consume(rule);
        } else if (!plan.terminal) {
          plan.terminal = { rule, action };
          consume(rule);
        }
      }
      return plan;
    },
  };
}
