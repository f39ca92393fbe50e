import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it('hides the password, also when it holds an unencoded @, / or ?', () => {
    expect(redactUrl('redis://user:hunter2@h:6379/0')).toBe('redis://user:***@h:6379/0');
    expect(redactUrl('redis+cluster://:hunter2@h1:7000,h2:7001?prefix=a')).toBe('redis+cluster://:***@h1:7000,h2:7001?prefix=a');
    for (const url of ['redis://user:hun/ter2@h:1', 'redis://user:hun@ter2@h:1', 'redis://:hun?ter2@h:1', 'rediss://u:hun#ter2@h:1/2']) {
      const shown = redactUrl(url);
      expect(shown, url).not.toMatch(/hun|ter2/);
      expect(shown, url).toMatch(/:\/\/u?s?e?r?:\*\*\*@h:1/);
    }
  });

  it('hides user info without a colon whole, and leaves URLs without credentials as they are', () => {
    expect(redactUrl('redis://hunter2@h:1')).toBe('redis://***@h:1');
    expect(redactUrl('redis://h:1/2?prefix=x')).toBe('redis://h:1/2?prefix=x');
    expect(redactUrl('lmdb:///var/lib/rtrec')).toBe('lmdb:///var/lib/rtrec');
    expect(redactUrl('not a url @ all')).toBe('not a url @ all');
  });
});
