// The k8s-file log records the helper writes (logfile.c), read back by `logs`.
import { describe, expect, test } from 'vitest';
import { parseLogRecords } from '../../lib/containers/logs.js';

const T1 = '2026-11-30T19:00:00.000000001Z';
const T2 = '2026-11-30T19:00:00.000000002Z';
const T3 = '2026-11-30T19:00:00.000000003Z';

describe('parseLogRecords', () => {
  test('full lines keep their stream and time, with a newline', () => {
    expect(parseLogRecords(`${T1} stdout F one\n${T2} stderr F two\n`)).toEqual([
      { time: T1, stream: 'stdout', text: 'one\n' },
      { time: T2, stream: 'stderr', text: 'two\n' },
    ]);
  });

  test('a partial record joins the next one of its own stream, across the other stream, with the first time', () => {
    const text = `${T1} stdout P par\n${T2} stderr F err\n${T3} stdout F tial\n`;
    expect(parseLogRecords(text)).toEqual([
      { time: T2, stream: 'stderr', text: 'err\n' },
      { time: T1, stream: 'stdout', text: 'partial\n' },
    ]);
  });

  test('a line still partial at the end comes last, without a newline; spaces in text are kept', () => {
    expect(parseLogRecords(`${T1} stdout P no newline \n${T2} stderr F a  b\n`)).toEqual([
      { time: T2, stream: 'stderr', text: 'a  b\n' },
      { time: T1, stream: 'stdout', text: 'no newline ' },
    ]);
  });

  test('malformed records are skipped', () => {
    expect(parseLogRecords(`garbage\n${T1} stdout\n${T2} stdout F ok\n`)).toEqual([{ time: T2, stream: 'stdout', text: 'ok\n' }]);
  });
});
