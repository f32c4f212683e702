// The format and modifier tables checked against the system's drm_fourcc.h (libdrm-dev, installed
// by .ci/run), and the raw Bayer and multi-planar formats against linux/videodev2.h (V4L2_PIX_FMT_*): a C program
// prints each value from the headers' own macros.

import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { each, testDir } from '../helpers.js';
import { FORMATS, v4l2Only } from '../../src/constraints/formats.js';
import { MODIFIERS } from '../../src/constraints/modifiers.js';

const HEADER = '/usr/include/libdrm/drm_fourcc.h';
const dir = testDir('udalloc-fourcc-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Modifiers whose header spelling is a macro call rather than our table name. */
const MACRO: Record<string, string> = {
  DRM_FORMAT_MOD_ARM_AFBC_16x16: 'DRM_FORMAT_MOD_ARM_AFBC(AFBC_FORMAT_MOD_BLOCK_SIZE_16x16)',
  DRM_FORMAT_MOD_ARM_AFBC_16x16_YTR_SPARSE: 'DRM_FORMAT_MOD_ARM_AFBC(AFBC_FORMAT_MOD_BLOCK_SIZE_16x16|AFBC_FORMAT_MOD_YTR|AFBC_FORMAT_MOD_SPARSE)',
  DRM_FORMAT_MOD_ARM_AFBC_16x16_YTR_SPARSE_SPLIT: 'DRM_FORMAT_MOD_ARM_AFBC(AFBC_FORMAT_MOD_BLOCK_SIZE_16x16|AFBC_FORMAT_MOD_YTR|AFBC_FORMAT_MOD_SPARSE|AFBC_FORMAT_MOD_SPLIT)',
};

function headerValues(): Map<string, bigint> {
  const lines = [
    ...FORMATS.map((f) => `P("${f.name}", ${v4l2Only(f) ? 'V4L2_PIX_FMT_' : 'DRM_FORMAT_'}${f.name});`),
    ...MODIFIERS.map((m) => `P("${m.name}", ${MACRO[m.name] ?? m.name});`),
  ];
  const source = `#include <stdio.h>\n#include <stdint.h>\n#include <libdrm/drm_fourcc.h>\n#include <linux/videodev2.h>\n#define P(n, v) printf("%s %llu\\n", n, (unsigned long long)(v))\nint main(void) {\n${lines.join('\n')}\nreturn 0; }\n`;
  writeFileSync(join(dir, 'fourcc.c'), source);
  execFileSync('cc', ['-o', join(dir, 'fourcc'), join(dir, 'fourcc.c')]);
  const out = execFileSync(join(dir, 'fourcc'), { encoding: 'utf8' });
  return new Map(out.trim().split('\n').map((l) => [l.split(' ')[0]!, BigInt(l.split(' ')[1]!)]));
}

describe(`tables match ${HEADER}`, () => {
  const values = headerValues();
  each(FORMATS.map((f) => [f.name, f.fourcc] as const), 'format %s', (name, fourcc) => assert.strictEqual(BigInt(fourcc), values.get(name)));
  each(MODIFIERS.map((m) => [m.name, m.value] as const), 'modifier %s', (name, value) => assert.strictEqual(value, values.get(name)));
});
