import { z } from 'zod';

/**
 * How often a sync runs, as the API reads and writes it: a whole number and a unit, `m` (minutes),
 * `h` (hours) or `d` (days): `"15m"`, `"1h"`, `"1d"`. At least one minute (the schedule looks once
 * a minute), at most 30 days. Stored as minutes; shown in the largest unit that divides it exactly
 * (`"120m"` reads back as `"2h"`).
 */

export const MIN_FREQUENCY_MINUTES = 1;
export const MAX_FREQUENCY_MINUTES = 30 * 1440;

const UNIT_MINUTES = { m: 1, h: 60, d: 1440 } as const;
const PATTERN = /^([1-9]\d{0,5})([mhd])$/;

/** Minutes for a frequency string; undefined when it is not one (or out of bounds). */
export function parseFrequency(text: string): number | undefined {
  const match = PATTERN.exec(text);
  if (!match) return undefined;
  const minutes = Number(match[1]) * UNIT_MINUTES[match[2] as keyof typeof UNIT_MINUTES];
  return minutes >= MIN_FREQUENCY_MINUTES && minutes <= MAX_FREQUENCY_MINUTES ? minutes : undefined;
}

export function formatFrequency(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

/** The request field: a frequency string, refused with a sentence naming the format otherwise. */
export const Frequency = z
  .string()
  .max(10)
  .refine((text) => parseFrequency(text) !== undefined, {
    message: 'must be a number and a unit, m, h or d ("15m", "1h", "1d"), between 1m and 30d',
  })
  .describe('How often the schedule runs the sync: "15m", "1h", "1d" (1 minute to 30 days)');
