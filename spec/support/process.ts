import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** SIGTERM a child process, SIGKILL it after `graceMs`, and wait until it has exited. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** A TypeScript fixture running in a child process (stdout and stderr collected together). */
export interface Fixture {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Run the TypeScript file `file` (through tsx) in a child process with `env` added to this one's. */
export function spawnFixture(file: string, env: Record<string, string>): Fixture {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: path.join(__dirname, '..', '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}
