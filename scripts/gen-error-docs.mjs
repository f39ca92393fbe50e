#!/usr/bin/env node
// Regenerates the table of docs/errors.md from the compiled error table (run `npm run build` first).
// The test src/core/errors.test.ts fails when the two drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../dist/core/errors.js';

const path = new URL('../docs/errors.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
const head = doc.slice(0, doc.indexOf('| code |'));
const rows = Object.entries(ERROR_CODES).map(([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.description} |`);
writeFileSync(path, `${head}| code | HTTP status | meaning |\n| --- | --- | --- |\n${rows.join('\n')}\n`);
console.log(`docs/errors.md: ${rows.length} codes`);
