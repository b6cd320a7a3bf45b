import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from './metrics.ts';

describe('metrics registry', () => {
  it('renders counters and gauges with escaped labels', async () => {
    const r = new Registry();
    const files = r.counter({ name: 'shopflow_files_total', help: 'Sales files\nseen', labelNames: ['status'] });
    files.inc({ status: 'loaded' });
    files.inc({ status: 'loaded' }, 2);
    files.inc({ status: 'bad "quoted"\\path\n' });
    const depth = r.gauge({ name: 'shopflow_queue_depth', help: 'Events waiting' });
    depth.set(undefined, 7);
    depth.dec();
    assert.equal(files.get({ status: 'loaded' }), 3);
    assert.equal(files.get({ status: 'never' }), 0);
    assert.equal(
      await r.render(),
      [
        '# HELP shopflow_files_total Sales files\\nseen',
        '# TYPE shopflow_files_total counter',
        'shopflow_files_total{status="loaded"} 3',
        'shopflow_files_total{status="bad \\"quoted\\"\\\\path\\n"} 1',
        '# HELP shopflow_queue_depth Events waiting',
        '# TYPE shopflow_queue_depth gauge',
        'shopflow_queue_depth 6',
        '',
      ].join('\n'),
    );
  });

  it('renders histograms with cumulative buckets, +Inf, sum and count', async () => {
    const r = new Registry();
    const h = r.histogram({ name: 'job_seconds', help: 'Job time', labelNames: ['job'], buckets: [0.1, 1] });
    h.observe({ job: 'a' }, 0.05);
    h.observe({ job: 'a' }, 0.1);
    h.observe({ job: 'a' }, 0.5);
    h.observe({ job: 'a' }, 30);
    assert.deepEqual(h.get({ job: 'a' }), { count: 4, sum: 30.65 });
    assert.equal(
      await r.render(),
      [
        '# HELP job_seconds Job time',
        '# TYPE job_seconds histogram',
        'job_seconds_bucket{job="a",le="0.1"} 2',
        'job_seconds_bucket{job="a",le="1"} 3',
        'job_seconds_bucket{job="a",le="+Inf"} 4',
        'job_seconds_sum{job="a"} 30.65',
        'job_seconds_count{job="a"} 4',
        '',
      ].join('\n'),
    );
  });

  it('returns the same instrument for the same registration and refuses a clash', () => {
    const r = new Registry();
    const a = r.counter({ name: 'x_total', help: 'x', labelNames: ['k'] });
    assert.equal(r.counter({ name: 'x_total', help: 'x', labelNames: ['k'] }), a);
    assert.throws(() => r.gauge({ name: 'x_total', help: 'x', labelNames: ['k'] }), /already registered/);
    assert.throws(() => r.counter({ name: 'x_total', help: 'x', labelNames: ['j'] }), /already registered/);
  });

  it('refuses bad names, wrong labels and decreasing counters', () => {
    const r = new Registry();
    assert.throws(() => r.counter({ name: 'bad-name', help: 'x' }), /invalid metric name/);
    assert.throws(() => r.counter({ name: 'ok_total', help: 'x', labelNames: ['le'] }), /invalid label/);
    assert.throws(() => r.histogram({ name: 'h', help: 'x', buckets: [1, 1] }), /ascending/);
    const c = r.counter({ name: 'c_total', help: 'x', labelNames: ['a'] });
    assert.throws(() => c.inc({}), /needs label a/);
    assert.throws(() => c.inc({ a: 1, b: 2 }), /takes labels/);
    assert.throws(() => c.inc({ a: 1 }, -1), /only go up/);
  });

  it('runs gauge collectors before rendering, and a failing one does not break the page', async () => {
    const r = new Registry();
    let n = 0;
    r.gauge({ name: 'polled', help: 'x', collect: (g) => g.set(undefined, ++n) });
    r.gauge({
      name: 'broken',
      help: 'x',
      collect: async () => {
        throw new Error('database down');
      },
    });
    assert.match(await r.render(), /^polled 1$/m);
    assert.match(await r.render(), /^polled 2$/m);
  });
});
