// Every rule of a shipped real board's profile says where it comes from: each device field and
// each format rule line cites the driver or device-tree source (file and function or table) it
// was read from. The example board is made up for the README and carries no citations.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

/** A source file named in a comment: a C file or header, a device tree source, a driver directory. */
const CITATION = /[\w.-]+\.(c|h|dtsi|dts)\b|drivers\/[\w/-]+\//;
/** Lines that state a device's rule: its fields, and each format's rule. */
const RULE_LINE = /^\s{4}(iommu|dmaBits|heaps|alignment|sizeAlign|maxSize|protected|coherent):|^\s{6}[A-Z][A-Z0-9_]*:\s*\{/;

describe('shipped board profiles cite their sources', () => {
  for (const file of readdirSync('boards').filter((f) => f.endsWith('.yaml') && f !== 'example.yaml')) {
    it(`${file}: every device field and format rule line cites a source file`, () => {
      const lines = readFileSync(`boards/${file}`, 'utf8').split('\n');
      const start = lines.findIndex((l) => /^devices:/.test(l));
      assert.ok(start > 0, 'a devices section');
      const missing: string[] = [];
      let rules = 0;
      lines.slice(start).forEach((line, i) => {
        if (!RULE_LINE.test(line)) return;
        rules++;
        const comment = line.indexOf('#');
        if (comment < 0 || !CITATION.test(line.slice(comment))) missing.push(`${file}:${start + i + 1}: ${line.trim()}`);
      });
      assert.ok(rules > 5, `${rules} rule lines`);
      assert.deepStrictEqual(missing, []);
    });
  }
});
