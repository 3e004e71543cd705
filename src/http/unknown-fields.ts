import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { safeParse } from 'zod/v4/core';
import { AppError } from '../errors.ts';

/**
 * The validator compiler of the /v1 API: the zod one, plus a request body may
 * carry no field its schema does not name, at any depth. zod's z.object strips
 * unknown keys silently, so a typo (`redirectURL`) would otherwise be ignored;
 * here it is a 400 validation_failed naming the field. Objects that declare a
 * catchall (records, z.looseObject) keep accepting any key.
 */
export const rejectUnknownBodyFields: FastifySchemaCompiler<z.ZodType> = (route) => {
  const validate = validatorCompiler(route);
  if (route.httpPart !== 'body') return validate;
  return (data) => {
    // The zod compiler answers synchronously with {value} or {error}.
    const result = validate(data) as { error?: Error; value?: unknown };
    if (result.error) return result;
    const unknown = findUnknownField(route.schema, data, []);
    if (!unknown) return result;
    const known = unknown.known.find((name) => name.toLowerCase() === unknown.field.toLowerCase());
    const hint = known ? ` (did you mean ${known}?)` : '';
    const where = ['body', ...unknown.path, unknown.field].join('.');
    return { error: new AppError('validation_failed', `Unknown field ${where}${hint}: remove it.`) };
  };
};

interface UnknownField {
  path: string[];
  field: string;
  /** The field names the schema does accept at that place. */
  known: string[];
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  options?: z.ZodType[];
};

/** The first field of `value` that `schema` does not name, walking the value and the schema together. */
export function findUnknownField(
  schema: z.ZodType,
  value: unknown,
  path: string[],
): UnknownField | undefined {
  const def = schema._zod.def as unknown as Def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return findUnknownField(def.innerType!, value, path);
    case 'pipe':
      return findUnknownField(def.in!, value, path);
    case 'lazy':
      return findUnknownField(def.getter!(), value, path);
    case 'array':
      if (!Array.isArray(value)) return undefined;
      return firstOf(value, (item, index) => findUnknownField(def.element!, item, [...path, String(index)]));
    case 'tuple':
      if (!Array.isArray(value)) return undefined;
      return firstOf(def.items!, (item, index) =>
        findUnknownField(item, value[index], [...path, String(index)]),
      );
    case 'object':
      return unknownInObject(def, value, path);
    case 'union': {
      // Judge the value by the options it matches; an option it does not match says nothing.
      const options = def.options!.filter((option) => safeParse(option, value).success);
      const found = options.map((option) => findUnknownField(option, value, path));
      return found.includes(undefined) ? undefined : found[0];
    }
    default:
      // Records, intersections, primitives: no fixed set of fields to hold the value to.
      return undefined;
  }
}

function unknownInObject(def: Def, value: unknown, path: string[]): UnknownField | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const shape = def.shape!;
  for (const [field, item] of Object.entries(value)) {
    if (Object.hasOwn(shape, field)) {
      const inner = findUnknownField(shape[field]!, item, [...path, field]);
      if (inner) return inner;
    } else if (!def.catchall) {
      return { path, field, known: Object.keys(shape) };
    }
  }
  return undefined;
}

function firstOf<T, R>(items: readonly T[], find: (item: T, index: number) => R | undefined): R | undefined {
  for (const [index, item] of items.entries()) {
    const found = find(item, index);
    if (found) return found;
  }
  return undefined;
}
