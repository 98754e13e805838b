/**
 * Run `fn` with exactly `env` as the values of `vars` in process.env (every other of `vars` unset), then
 * restore them as they were, whether `fn` returned or threw.
 */
export function withProcessEnv<T>(vars: readonly string[], env: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(vars.map((k) => [k, process.env[k]]));
  for (const k of vars) delete process.env[k];
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const k of vars) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}
