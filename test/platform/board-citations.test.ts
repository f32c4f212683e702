// Every rule of a shipped real board's profile says where it comes from: each device field and
// each format rule line cites the driver or device-tree source (file and function or table) it
// was read from. The example board is made up for the README and carries no citations.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

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

describe('shipped board profiles hold every DMA master of their 6.12 tree', () => {
  // The boards whose device tree is in the ground truth (test/platform/ground-truth/).
  for (const [profile, truth] of [['raspberry-pi-4.yaml', 'bcm2711-rpi-4-b.yaml'], ['imx8mp-evk.yaml', 'imx8mp-evk.yaml']] as const) {
    it(`${profile}: a device entry for each master of ${truth}, found by its compatible`, () => {
      const entries = readFileSync(`boards/${profile}`, 'utf8').split('\n').filter((l) => /^  - name: /.test(l));
      const masters = (parseYaml(readFileSync(`test/platform/ground-truth/${truth}`, 'utf8')) as { masters: Array<{ compatible: string; path: string }> }).masters;
      const missing: string[] = [];
      for (const compatible of new Set(masters.map((m) => m.compatible))) {
        const wanted = masters.filter((m) => m.compatible === compatible).length;
        const have = entries.filter((l) => l.includes(`"${compatible}"`)).length;
        if (have < wanted) missing.push(`${compatible}: ${have} of ${wanted} (${masters.filter((m) => m.compatible === compatible).map((m) => m.path).join(', ')})`);
      }
      assert.deepStrictEqual(missing, []);
    });
  }
});
