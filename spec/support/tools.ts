import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The absolute path of a required external tool. A missing tool fails the test
 * loudly (never a skip): CI installs them all through .ci/run.
 */
export function requireTool(name: string, candidates: readonly string[] = []): string {
  for (const c of candidates) if (existsSync(c)) return c;
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  if (r.status === 0 && found) return found;
  throw new Error(`required tool "${name}" is not installed; run .ci/run (it installs the Debian packages the tests need)`);
}

/** Run promtool with `args`, feeding `input` on stdin; returns its exit status and output. */
export function promtool(args: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
  const bin = requireTool('promtool');
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Version line of a tool (for diagnostics). */
export function versionOf(bin: string): string {
  return execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
}
