// node:test reporter for scripts/test.mjs: Node's own `spec` reporter, minus the JSON log lines that
// the apps under test write to stdout (access logs and the like; a spec that asserts on logs captures
// them itself). TEST_LOGS=1 shows them again.
import { Readable } from 'node:stream';
import { spec } from 'node:test/reporters';

const LOG_LINE = /^\{"timestamp":/;

export default async function* quietSpec(source) {
  const show = process.env.TEST_LOGS === '1';
  async function* filtered() {
    for await (const event of source) {
      if (!show && event.type === 'test:stdout' && LOG_LINE.test(event.data.message)) continue;
      yield event;
    }
  }
  yield* Readable.from(filtered()).pipe(new spec());
}
