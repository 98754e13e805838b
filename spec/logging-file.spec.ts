/**
 * `logging.file`: lines appended with one synchronous write per event-loop turn (error lines at once), so
 * what was flushed survives kill -9; write failures are counted, not thrown at the application; paths that
 * are not regular files are written through a stream; a path that cannot be opened fails at construction.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createObservability } from '../lib';
import { samples } from './support/exposition';
import { pool, request } from './support/http';

const FIXTURE = path.join(__dirname, 'fixtures', 'file-log-app.cjs');
const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'eo-file-'));
  dirs.push(d);
  return d;
}

interface Child {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

/** Start the fixture writing to `file`; `fileSizeKb` runs it under `ulimit -f` (writes past it fail with EFBIG). */
async function startFixture(file: string, env: Record<string, string> = {}, fileSizeKb?: number): Promise<Child> {
  const [cmd, args] =
    fileSizeKb === undefined
      ? [process.execPath, [FIXTURE]]
      : ['bash', ['-c', `ulimit -f ${fileSizeKb} && exec "$0" "$1"`, process.execPath, FIXTURE]];
  const child = spawn(cmd as string, args as string[], { env: { ...process.env, LOG_FILE: file, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then((code) => reject(new Error(`fixture exited (${String(code)}) before listening:\n${out}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}

const completeLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);

describe('logging.file', () => {
  it('an error line and the lines of its turn are in the file when the process is killed (kill -9) right after logging it', async () => {
    const file = path.join(tempDir(), 'app.log');
    const fx = await startFixture(file, { COUNT: '300' });
    await assert.rejects(request(fx.url, '/fatal'), 'the process dies before answering');
    assert.equal(await fx.exited, 'SIGKILL');
    const lines = completeLines(file).map((l) => JSON.parse(l) as { message: string; level: string; i: number });
    assert.equal(lines.length, 301);
    assert.deepEqual(lines.map((l) => l.i), Array.from({ length: 301 }, (_, i) => i));
    assert.equal(lines.at(-1)?.level, 'error');
  });

  it('counts lines the file cannot take (a full file system: EFBIG under ulimit -f), warns once, keeps serving', async () => {
    const file = path.join(tempDir(), 'app.log');
    const fx = await startFixture(file, {}, 4);
    const n = 120;
    const statuses: number[] = [];
    await pool(Array.from({ length: n }), 4, async () => statuses.push((await request(fx.url, '/x')).status));
    assert.deepEqual(new Set(statuses), new Set([200]));
    const metrics = (await request(fx.url, '/metrics')).body;
    const dropped = samples(metrics, 'observability_log_lines_dropped_total', { transport: 'file', reason: 'write_error' })[0]?.value ?? 0;
    const written = completeLines(file);
    for (const l of written) assert.equal((JSON.parse(l) as { path: string }).path, '/x');
    assert.ok(written.length > 0 && dropped > 0, `written ${written.length}, dropped ${dropped}`);
    assert.equal(written.length + dropped, n, 'every access line is either complete in the file or counted as dropped');
    assert.equal(samples(metrics, 'observability_internal_errors_total', { component: 'logging-file' })[0]?.value, 1, 'one report per run of failures');
    fx.child.kill('SIGTERM');
    await fx.exited;
  });

  it('writes a path that is not a regular file (a FIFO) through a stream, without blocking construction on a reader', async () => {
    const fifo = path.join(tempDir(), 'lines.fifo');
    execFileSync('mkfifo', [fifo]);
    const obs = createObservability({ serviceName: 'fifo', system: { enabled: false }, tracing: { enabled: false }, logging: { stdout: false, file: fifo } });
    let text = '';
    const ended = new Promise<void>((resolve) => {
      createReadStream(fifo, 'utf8')
        .on('data', (c) => (text += String(c)))
        .on('end', resolve);
    });
    obs.logger.info('through the pipe', { n: 1 });
    await obs.shutdown();
    await ended; // shutdown ended the stream: the reader sees end-of-file
    const line = JSON.parse(text.split('\n')[0] as string) as { message: string; n: number };
    assert.deepEqual([line.message, line.n], ['through the pipe', 1]);
  });

  it('counts the lines a FIFO loses when its reader goes away (EPIPE) as write_error, reports once, keeps logging', async () => {
    const fifo = path.join(tempDir(), 'gone.fifo');
    execFileSync('mkfifo', [fifo]);
    const obs = createObservability({ serviceName: 'fifo', system: { enabled: false }, tracing: { enabled: false }, logging: { stdout: false, file: fifo } });
    // A reader that takes one line and exits (an in-process read stream would keep a pool thread blocked in read()).
    const reader = spawn('head', ['-n', '1', fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(reader);
    let got = '';
    reader.stdout.on('data', (c: Buffer) => (got += c.toString()));
    const gone = new Promise((resolve) => reader.once('exit', resolve));
    obs.logger.info('read');
    await gone;
    assert.match(got, /"message":"read"/);
    const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 0; i < 5; i++) {
      obs.logger.info('into the void', { i });
      await turn();
    }
    const value = async (name: string, labels: Record<string, string>): Promise<number | undefined> =>
      samples(await obs.registry.metrics(), name, labels)[0]?.value;
    assert.equal(await value('observability_log_lines_dropped_total', { transport: 'file', reason: 'write_error' }), 5);
    assert.equal(await value('observability_internal_errors_total', { component: 'logging-file' }), 1);
    await obs.shutdown();
    assert.equal(await value('observability_log_lines_dropped_total', { transport: 'file', reason: 'shutdown' }), undefined);
  });

  it('shutdown writes what is pending and closes the file; a line logged after it is counted as dropped (reason shutdown)', async () => {
    const file = path.join(tempDir(), 'app.log');
    const openOnFile = (): number => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false; // the descriptor readdir itself used, gone by now
      }
    }).length;
    const obs = createObservability({ serviceName: 'closing', system: { enabled: false }, tracing: { enabled: false }, logging: { stdout: false, file } });
    assert.equal(openOnFile(), 1);
    obs.logger.info('last words');
    await obs.shutdown();
    assert.equal(openOnFile(), 0, 'the descriptor is closed');
    obs.logger.info('too late');
    await new Promise((resolve) => setImmediate(resolve)); // the end of the turn, when lines are written
    assert.deepEqual(completeLines(file).map((l) => (JSON.parse(l) as { message: string }).message), ['last words']);
    const metrics = await obs.registry.metrics();
    assert.equal(samples(metrics, 'observability_log_lines_dropped_total', { transport: 'file', reason: 'shutdown' })[0]?.value, 1);
  });

  it('refuses, at construction and naming the option, a file it cannot open', () => {
    const dir = tempDir();
    const options = (file: string) => ({ system: { enabled: false }, tracing: { enabled: false }, logging: { stdout: false, file } });
    assert.throws(() => createObservability(options(path.join(dir, 'missing', 'app.log'))), /option "logging\.file": ".*app\.log" cannot be opened for appending: ENOENT/);
    mkdirSync(path.join(dir, 'sub'));
    assert.throws(() => createObservability(options(path.join(dir, 'sub'))), /option "logging\.file": ".*sub" cannot be opened for appending: it is a directory/);
  });
});
