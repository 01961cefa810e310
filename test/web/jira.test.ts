import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueParts, issueUrl } from '../../src/web/chart-data/jira';

describe('Jira issue keys in commit summaries', () => {
  it('splits a summary into text and issue keys, keeping every character', () => {
    const text = 'ABC-123: fix the PROJ_2-7 thing (see abc-1, A-1, XY-0 and ZZ-42x)';
    const parts = issueParts(text);
    assert.equal(parts.map((p) => p.text).join(''), text);
    assert.deepEqual(
      parts.filter((p) => p.issue).map((p) => p.issue),
      ['ABC-123', 'PROJ_2-7'],
    );
    assert.deepEqual(issueParts('no keys here'), [{ text: 'no keys here' }]);
    assert.deepEqual(issueParts(''), []);
  });

  it('links to the site’s browse page, the key encoded', () => {
    assert.equal(issueUrl('https://acme.atlassian.net', 'ABC-1'), 'https://acme.atlassian.net/browse/ABC-1');
    assert.equal(issueUrl('https://acme.atlassian.net/', 'ABC-1'), 'https://acme.atlassian.net/browse/ABC-1');
  });
});
