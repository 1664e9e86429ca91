import { describe, expect, test } from 'vitest';
import { parsePublish } from '../../lib/network/ports.js';

describe('parsePublish', () => {
  test('a range with an end missing (or a negative port) is named as a range, with how to write one', () => {
    for (const [spec, range] of [['-1:80', '-1'], ['1-:80', '1-'], ['80:-5', '-5'], ['1--3:80', '1--3']] as const) {
      expect(() => parsePublish(spec), spec).toThrow(`invalid port range "${range}" in -p ${spec}: write START-END, each 1 to 65535`);
    }
  });

  test('a port out of range and a range backwards are named', () => {
    expect(() => parsePublish('70000:80')).toThrow('invalid port "70000" in -p 70000:80: ports are 1 to 65535');
    expect(() => parsePublish('8003-8000:80-83')).toThrow('invalid port range "8003-8000" in -p 8003-8000:80-83: the end is below the start');
  });

  test('ranges still parse', () => {
    expect(parsePublish('127.0.0.1:8000-8001:80-81/udp')).toEqual([
      { hostIp: '127.0.0.1', hostPort: 8000, containerPort: 80, protocol: 'udp' },
      { hostIp: '127.0.0.1', hostPort: 8001, containerPort: 81, protocol: 'udp' },
    ]);
  });
});
