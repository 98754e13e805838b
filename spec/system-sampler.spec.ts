import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type ObservabilityOptions } from '../lib/index';
import { DEFAULT_EXCLUDED_FS_TYPES } from '../lib/system/options';
import { parseProcMounts } from '../lib/system/probes';
import { samples } from './support/exposition';
import { listen, request, waitFor, type Listening } from './support/http';
import { promtool } from './support/tools';

const MINE = /^(system_|nodejs_eventloop_delay_|observability_system_)/;

/** Only the families this subsystem defines (HELP/TYPE lines and samples). */
function ownFamilies(text: string): string {
  return (
    text
      .split('\n')
      .filter((l) => {
        const name = l.startsWith('#') ? (l.split(' ')[2] ?? '') : l;
        return MINE.test(name);
      })
      .join('\n') + '\n'
  );
}

const running: { obs: ReturnType<typeof createObservability>; srv: Listening }[] = [];
async function start(options: ObservabilityOptions): Promise<{ url: string; metrics: () => Promise<string> }> {
  const obs = createObservability({ metrics: { defaultMetrics: false }, tracing: { enabled: false }, ...options });
  const app = express();
  app.use(obs.router);
  const srv = await listen(app);
  running.push({ obs, srv });
  return { url: srv.url, metrics: async () => (await request(srv.url, '/metrics')).body };
}

after(async () => {
  for (const r of running) {
    await r.srv.close();
    await r.obs.shutdown();
  }
});

describe('system sampler', () => {
  it('serves CPU, memory and per-mount filesystem gauges within 2 s of start, in range, accepted by promtool', async () => {
    const t0 = Date.now();
    const { metrics } = await start({});
    const text = await waitFor(async () => {
      const t = await metrics();
      return samples(t, 'system_filesystem_utilization_ratio').length > 0 && samples(t, 'system_memory_limit_bytes').length > 0 ? t : undefined;
    }, 2000, 20, 'first system sample');
    assert.ok(Date.now() - t0 <= 2500);

    const ratio = (name: string, match: Record<string, string> = {}): number[] => samples(text, name, match).map((s) => s.value);
    const inUnit = (v: number): boolean => Number.isFinite(v) && v >= 0 && v <= 1;
    assert.equal(ratio('system_cpu_utilization_ratio').length, 1);
    assert.ok(ratio('system_cpu_utilization_ratio').every(inUnit));
    const cores = samples(text, 'system_cpu_core_utilization_ratio');
    assert.equal(cores.length, os.cpus().length);
    assert.ok(cores.every((c) => inUnit(c.value) && /^\d+$/.test(c.labels.cpu ?? '')));

    const total = ratio('system_memory_limit_bytes')[0] as number;
    assert.equal(total, os.totalmem());
    const used = ratio('system_memory_usage_bytes', { state: 'used' })[0] as number;
    const available = ratio('system_linux_memory_available_bytes')[0] as number;
    assert.ok(used > 0 && used <= total && available > 0 && available <= total);
    assert.ok(Math.abs(used + available - total) <= 1);
    assert.ok(inUnit(ratio('system_memory_utilization_ratio', { state: 'used' })[0] as number));

    const mounts = samples(text, 'system_filesystem_utilization_ratio');
    assert.ok(mounts.length >= 1, 'at least one real mount');
    for (const m of mounts) {
      assert.ok(inUnit(m.value));
      assert.ok(m.labels.mountpoint && m.labels.device !== undefined && m.labels.fstype);
      assert.ok(!['proc', 'sysfs', 'tmpfs', 'devtmpfs', 'cgroup2'].includes(m.labels.fstype as string), `pseudo fs ${m.labels.fstype}`);
      const labels = { mountpoint: m.labels.mountpoint as string };
      const size = samples(text, 'system_filesystem_limit_bytes', labels)[0]?.value as number;
      const fsUsed = samples(text, 'system_filesystem_usage_bytes', { ...labels, state: 'used' })[0]?.value as number;
      assert.ok(size > 0 && fsUsed >= 0 && fsUsed <= size);
    }
    assert.equal(samples(text, 'system_cpu_load_average_1m').length, 1);
    assert.ok(samples(text, 'nodejs_eventloop_delay_p99_seconds')[0]!.value >= 0);
    for (const probe of ['cpu', 'memory', 'mounts', 'statfs', 'load']) {
      assert.equal(samples(text, 'observability_system_probe_failures_total', { probe })[0]?.value, 0, probe);
    }

    const lint = promtool(['check', 'metrics'], ownFamilies(text));
    assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
  });

  it('a mount whose path starts reading another device (unmounted) is left out at once, and the mount list read again', async () => {
    let device = 1;
    let listReads = 0;
    const { metrics } = await start({
      system: {
        intervalMs: 100,
        probes: {
          mounts: () => {
            listReads++;
            return [{ mountpoint: '/data', device: '/dev/sdb1', fstype: 'ext4' }];
          },
          statfs: () => ({ size: 1000, used: 250, available: 750, deviceId: device }),
        },
      },
    });
    await waitFor(async () => samples(await metrics(), 'system_filesystem_limit_bytes', { mountpoint: '/data' }).length === 1, 5000, 20, 'the mount reported');
    const readsBefore = listReads;
    device = 2; // What statfs() of a path whose mount went away answers: the parent filesystem, another device.
    await waitFor(async () => samples(await metrics(), 'system_filesystem_limit_bytes', { mountpoint: '/data' }).length === 0, 5000, 20, 'the mount left out');
    await waitFor(() => listReads > readsBefore, 5000, 20, 'the mount list read again at once, not after a minute');
    // The default probe reports the mountpoint's device.
    const { DEFAULT_PROBES } = await import('../lib/system/probes');
    assert.equal((await DEFAULT_PROBES.statfs('/')).deviceId, statSync('/').dev);
  });

  it("reports the event-loop delay beyond the monitor's 10 ms timer interval (an idle loop is near 0)", async () => {
    const { metrics } = await start({ system: { intervalMs: 200 } });
    await new Promise((r) => setTimeout(r, 700));
    const text = await metrics();
    const p50 = samples(text, 'nodejs_eventloop_delay_p50_seconds')[0]?.value as number;
    assert.ok(p50 >= 0 && p50 < 0.008, `idle p50 ${p50} s (the monitor's raw figure is at least its 0.010 s interval)`);
  });

  it('counts a throwing probe, a hanging probe and an unreadable mount; the others still report', async () => {
    let loadCalls = 0;
    const { url, metrics } = await start({
      system: {
        intervalMs: 100,
        probeTimeoutMs: 150,
        probes: {
          memory: () => {
            throw new Error('memory probe exploded');
          },
          load: () => {
            loadCalls++;
            return new Promise<number[]>(() => undefined);
          },
          mounts: () => [
            { mountpoint: '/', device: 'rootdev', fstype: 'ext4' },
            { mountpoint: '/broken', device: 'nfs-server:/x', fstype: 'nfs' },
            { mountpoint: '/proc', device: 'proc', fstype: 'proc' },
          ],
          statfs: (mountpoint: string) => {
            if (mountpoint === '/broken') throw new Error('EIO: stale file handle');
            return { size: 1000, used: 250, available: 750 };
          },
        },
      },
    });
    const text = await waitFor(async () => {
      const t = await metrics();
      const f = (probe: string): number => samples(t, 'observability_system_probe_failures_total', { probe })[0]?.value ?? 0;
      return f('memory') >= 2 && f('load') >= 2 ? t : undefined;
    }, 5000, 50, 'probe failures counted');

    // The hanging probe is never called again while its first call is pending.
    assert.equal(loadCalls, 1);
    assert.ok(samples(text, 'observability_system_filesystem_errors_total', { mountpoint: '/broken' })[0]!.value >= 1);
    assert.equal(samples(text, 'observability_system_probe_failures_total', { probe: 'cpu' })[0]?.value, 0);
    // No memory or load series (never read); CPU and the readable mount still report.
    assert.equal(samples(text, 'system_memory_limit_bytes').length, 0);
    assert.equal(samples(text, 'system_cpu_load_average_1m').length, 0);
    assert.equal(samples(text, 'system_cpu_utilization_ratio').length, 1);
    assert.deepEqual(samples(text, 'system_filesystem_utilization_ratio').map((s) => [s.labels.mountpoint, s.value]), [['/', 0.25]]);
    assert.equal(samples(text, 'system_filesystem_usage_bytes', { mountpoint: '/', state: 'free' })[0]?.value, 750);
    // Internal failures are reported once per streak, not once per sample.
    const internal = samples(text, 'observability_internal_errors_total', { component: 'system-probe:memory' })[0]?.value;
    assert.equal(internal, 1);
    // The memory check says the probe failed, not that it still waits for a first sample.
    const health = JSON.parse((await request(url, '/health')).body) as { checks: Record<string, { status: string; output?: string }[]> };
    assert.equal(health.checks['memory:utilization']?.[0]?.status, 'warn');
    assert.match(health.checks['memory:utilization']?.[0]?.output ?? '', /the memory probe failed/);
  });

  it('never overlaps itself: a slow probe delays the next sample instead of running twice', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const { metrics } = await start({
      system: {
        intervalMs: 100,
        probeTimeoutMs: 1000,
        probes: {
          cpu: async () => {
            calls++;
            active++;
            maxActive = Math.max(maxActive, active);
            await new Promise((r) => setTimeout(r, 250));
            active--;
            return os.cpus();
          },
        },
      },
    });
    await waitFor(() => calls >= 3, 5000, 20, 'three samples');
    assert.equal(maxActive, 1);
    const text = await metrics();
    assert.equal(samples(text, 'observability_system_probe_failures_total', { probe: 'cpu' })[0]?.value, 0);
  });

  it('validates its options, naming the option', () => {
    assert.throws(() => createObservability({ system: { intervalMs: 5 } }), (e: Error) => e instanceof RangeError && /"system\.intervalMs"/.test(e.message));
    assert.throws(
      () => createObservability({ system: { probes: { cpu: 'os.cpus' as never } } }),
      (e: Error) => e instanceof TypeError && /"system\.probes\.cpu"/.test(e.message),
    );
    assert.throws(() => createObservability({ system: { bogus: 1 } as never }), /unknown option "system\.bogus"/);
    assert.throws(() => createObservability({ system: { excludeFsTypes: ['proc', 3] as never } }), /"system\.excludeFsTypes\[1\]"/);
  });

  it('reads the mount list without starting a process (Linux: /proc/self/mounts), and reports every mount df reports', () => {
    // systeminformation's fsSize() ran `cat /proc/mounts` through execSync: a stop of the event loop once a minute.
    const out = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'fixtures', 'sampler-app.cjs')], { encoding: 'utf8', timeout: 30_000 })) as {
      calls: string[];
      mountpoints: string[];
      filesystemModule: boolean;
    };
    assert.deepEqual(out.calls, [], 'no child process started by the sampler');
    assert.equal(out.filesystemModule, false, "systeminformation's filesystem module not loaded");
    // df -P: one line per filesystem, the mountpoint last (this machine's have no spaces); pseudo types skipped as the sampler does.
    const excluded = new Set(DEFAULT_EXCLUDED_FS_TYPES);
    const df = execFileSync('df', ['-kPT'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/))
      .filter((f) => !excluded.has(f[1] as string))
      .map((f) => f.slice(6).join(' '));
    assert.ok(df.length > 0, 'df lists a real filesystem');
    for (const mountpoint of df) assert.ok(out.mountpoints.includes(mountpoint), `${mountpoint} (from df) is reported: ${out.mountpoints.join(', ')}`);
    const mounted = new Set(readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]));
    for (const mountpoint of out.mountpoints) assert.ok(mounted.has(mountpoint), `${mountpoint} is a mountpoint`);
  });

  it('parses /proc/mounts as df lists it: escapes decoded, the visible one of stacked mounts, a block device once at its shortest mountpoint', () => {
    const text = [
      'proc /proc proc rw,relatime 0 0',
      '/dev/sda1 / ext4 rw,relatime 0 0',
      'tmpfs /dev/shm tmpfs rw 0 0',
      'tmpfs /run tmpfs rw 0 0',
      '/dev/sdb1 /mnt/my\\040data xfs rw 0 0',
      '/dev/sda1 /etc/hostname ext4 rw 0 0',
      '/dev/sda1 /etc/hosts ext4 rw 0 0',
      'overlay /var/lib/x overlay rw 0 0',
      'shm /var/lib/x overlay rw 0 0',
      '',
    ].join('\n');
    const got = parseProcMounts(text).sort((a, b) => a.mountpoint.localeCompare(b.mountpoint));
    assert.deepEqual(got, [
      { device: '/dev/sda1', mountpoint: '/', fstype: 'ext4' },
      { device: 'tmpfs', mountpoint: '/dev/shm', fstype: 'tmpfs' },
      { device: '/dev/sdb1', mountpoint: '/mnt/my data', fstype: 'xfs' },
      { device: 'proc', mountpoint: '/proc', fstype: 'proc' },
      { device: 'tmpfs', mountpoint: '/run', fstype: 'tmpfs' },
      { device: 'shm', mountpoint: '/var/lib/x', fstype: 'overlay' },
    ]);
  });

  it('does not sample when disabled', async () => {
    const { metrics } = await start({ system: { enabled: false } });
    const text = await metrics();
    assert.equal(samples(text, 'system_cpu_utilization_ratio').length, 0);
  });
});
