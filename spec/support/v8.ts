/** V8 facilities the specs switch on only for as long as they take to obtain (no --expose-gc or --allow-natives-syntax on the test process). */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Run `make` with the V8 flag `--<flag>` on, then switch it off again; returns what `make` returned. */
function withV8Flag<T>(flag: string, make: () => T): T {
  setFlagsFromString(`--${flag}`);
  try {
    return make();
  } finally {
    setFlagsFromString(`--no-${flag}`);
  }
}

/** V8's `gc()` (a full collection), from a context created while `--expose-gc` was on. */
export function exposeGc(): () => void {
  return withV8Flag('expose-gc', () => runInNewContext('gc') as () => void);
}

/** A function whose body uses V8 natives syntax (`%Name(...)`), switched on only while it is compiled. */
export function withNatives<F>(...source: string[]): F {
  return withV8Flag('allow-natives-syntax', () => new Function(...source) as F);
}
