// pathMatcher(): the one compiler of path-pattern lists (exact, prefix, case-folded strings; RegExps).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathMatcher } from '../lib/util/path-match';

describe('pathMatcher()', () => {
  it('an empty list compiles to nothing, so callers can skip computing the path', () => {
    assert.equal(pathMatcher([]), undefined);
  });

  it('strings match the exact path by default; RegExps are tested on the path', () => {
    const m = pathMatcher(['/metrics', /^\/internal\//]);
    assert.ok(m);
    assert.equal(m('/metrics'), true);
    assert.equal(m('/metrics/x'), false);
    assert.equal(m('/Metrics'), false);
    assert.equal(m('/internal/a'), true);
    assert.equal(m('/users/1'), false);
  });

  it('with prefix and ignoreCase, a string matches itself and what lies below it, in any case, never a longer name', () => {
    const m = pathMatcher(['/Metrics', '/admin/', /^\/X$/], { prefix: true, ignoreCase: true });
    assert.ok(m);
    assert.equal(m('/metrics'), true);
    assert.equal(m('/METRICS/sub'), true);
    assert.equal(m('/metricsx'), false);
    assert.equal(m('/admin/users'), true);
    assert.equal(m('/administrator'), false);
    assert.equal(m('/X'), true);
    assert.equal(m('/x'), false, 'a RegExp keeps its own flags');
  });
});
