/**
 * @module Store URLs as they may be shown in messages and logs: the password (everything between
 * the user name's colon and the last `@` of the URL) replaced by `***`. The last `@`, not the first,
 * because a mistyped URL may hold an unencoded `@` or `/` in its password, and such a URL is exactly
 * the one an error message quotes.
 */

/**
 * `url` with its credentials hidden: `redis://user:***@host`. User info without a colon (which
 * may be a password given alone) is hidden whole: `redis://***@host`.
 */
export function redactUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd < 0) return url;
  const start = schemeEnd + 3;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  const userInfo = url.slice(start, at);
  const colon = userInfo.indexOf(':');
  return `${url.slice(0, start)}${colon >= 0 ? `${userInfo.slice(0, colon)}:` : ''}***${url.slice(at)}`;
}
