// A separate process appending to an event log, for test/unit/events-log.test.ts
// (bundled by esbuild at test time): the real appendLine, real O_APPEND writes,
// real rotations.   events-worker LOG WRITER COUNT MAX_BYTES
import { appendLine, eventLine, nowNanos } from '../../../lib/events/log.js';

const [log, writer, count, max] = process.argv.slice(2);
for (let i = 0; i < Number(count); i++) {
  appendLine(log!, eventLine({ Name: `w${writer}-${i}`, Status: 'create', Type: 'volume', Attributes: { pad: 'x'.repeat(i % 200) } }, nowNanos()), Number(max));
}
