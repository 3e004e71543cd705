import { describe, expect, it } from 'vitest';
import { Frequency, formatFrequency, parseFrequency } from './frequency.ts';

describe('sync frequencies', () => {
  it('reads minutes, hours and days', () => {
    expect(parseFrequency('1m')).toBe(1);
    expect(parseFrequency('15m')).toBe(15);
    expect(parseFrequency('1h')).toBe(60);
    expect(parseFrequency('1d')).toBe(1440);
    expect(parseFrequency('30d')).toBe(43_200);
  });

  it('refuses anything else, and values outside 1 minute to 30 days', () => {
    for (const text of [
      '',
      '0m',
      '00m',
      '15',
      'm',
      '1w',
      '1.5h',
      '-1h',
      ' 1h',
      '1h ',
      '1H',
      '31d',
      '43201m',
      '721h',
    ])
      expect(parseFrequency(text), text).toBeUndefined();
    expect(Frequency.safeParse('1w').success).toBe(false);
    expect(Frequency.safeParse('1d').success).toBe(true);
  });

  it('shows a frequency in the largest unit that divides it exactly', () => {
    expect(formatFrequency(15)).toBe('15m');
    expect(formatFrequency(90)).toBe('90m');
    expect(formatFrequency(120)).toBe('2h');
    expect(formatFrequency(2880)).toBe('2d');
    for (const text of ['15m', '2h', '3d']) expect(formatFrequency(parseFrequency(text)!)).toBe(text);
  });
});
