/**
 * When the attempts of one delivery happen: Svix's schedule, measured from the previous attempt.
 * Attempt 1 goes at once; after the 8th fails the delivery is `failed` (about 28 hours in all).
 * Each wait is jittered ±20% so deliveries that failed together do not come back together.
 */
export const SVIX_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** The wait before attempt `attempt + 1`, or null when `attempt` was the last one. */
export function nextDelayMs(
  schedule: readonly number[],
  attempt: number,
  random: () => number = Math.random,
): number | null {
  const base = schedule[attempt];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}
