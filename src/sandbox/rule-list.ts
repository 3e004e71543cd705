import { randomUUID } from 'node:crypto';

/**
 * The rules behind a sandbox control list (faults, rate limits): each added with an id of its
 * kind, listed as copies (a caller can't change a live rule), removed one at a time or all, and
 * matched against calls through `live()`.
 */
export interface RuleList<Input, Rule extends Input & { id: string }> {
  add(input: Input): Rule;
  list(): Rule[];
  remove(id: string): boolean;
  clear(): void;
  /** The rules in force, in the order added (a snapshot: removing one while iterating is safe). */
  live(): readonly Rule[];
}

export function makeRuleList<Input, Rule extends Input & { id: string }>(
  idPrefix: string,
  create: (input: Input, id: string) => Rule,
): RuleList<Input, Rule> {
  let rules: Rule[] = [];
  return {
    add(input) {
      const rule = create(input, `${idPrefix}_${randomUUID()}`);
      rules = [...rules, rule];
      return rule;
    },
    list: () => rules.map((rule) => ({ ...rule })),
    remove(id) {
      const before = rules.length;
      rules = rules.filter((rule) => rule.id !== id);
      return rules.length < before;
    },
    clear() {
      rules = [];
    },
    live: () => rules,
  };
}
