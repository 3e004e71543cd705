// Google's partial responses (`fields=nextPageToken,files(id,name,owners(emailAddress))`): a
// selection tree applied to an answer. Drive v3 answers only a default selection without one.

export type Selection = Map<string, Selection | true>;

/** The selection, or undefined when `fields` cannot be read (Google answers 400). */
export function parseFields(fields: string): Selection | undefined {
  let at = 0;
  function list(): Selection | undefined {
    const out: Selection = new Map();
    for (;;) {
      const name = /^[A-Za-z_*][A-Za-z0-9_]*/.exec(fields.slice(at))?.[0];
      if (!name) return undefined;
      at += name.length;
      if (fields[at] === '(') {
        at++;
        const inner = list();
        if (!inner || fields[at] !== ')') return undefined;
        at++;
        out.set(name, inner);
      } else out.set(name, true);
      if (fields[at] !== ',') return out;
      at++;
      while (fields[at] === ' ') at++;
    }
  }
  const selection = list();
  return selection && at === fields.length ? selection : undefined;
}

export function applyFields(value: unknown, selection: Selection | true): unknown {
  if (selection === true || selection.has('*')) return value;
  if (Array.isArray(value)) return value.map((item) => applyFields(item, selection));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, inner] of selection) {
    const field = (value as Record<string, unknown>)[name];
    if (field !== undefined) out[name] = applyFields(field, inner);
  }
  return out;
}
