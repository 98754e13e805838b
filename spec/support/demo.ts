import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './http';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** The demo app running in a child process (`node demo-app/server.js`, built package). */
export interface DemoProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start the demo app on an ephemeral port; requires `npm run build` to have run (npm test does). */
export async function startDemo(env: Record<string, string> = {}): Promise<DemoProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'demo-app', 'server.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let url: string;
  try {
    url = await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`demo exited early:\n${out}`);
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      return m ? m[1] : undefined;
    }, 30_000, 50, 'demo to listen');
  } catch (err) {
    // A demo that starts too late must not outlive the test (it would keep the test process, and the run, alive).
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\ndemo output so far:\n${out}`);
  }
  return {
    url,
    port: Number(new URL(url).port),
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
