// The package as someone else's project gets it: `npm pack`, then `npm install` of the tarball in a
// new project. The tarball ships the library, the CLI, the boards and the native sources (no tests);
// installing builds the native binding; README's library example runs as written; boards are
// found by name from any directory.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { testDir } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** README's first ```ts block (the library example), compiled as a consumer's TypeScript would be. */
function readmeLibraryExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /## Library\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'README has a library example');
  return ts.transpileModule(block, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
}

describe('the package from another project', () => {
  it('packs without tests, installs with its native binding, and README\'s library example runs as written', { timeout: 300_000 }, () => {
    const dir = testDir('udalloc-pkg-');
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0]!.files.map((f) => f.path);
    assert.deepStrictEqual(files.filter((f) => /^dist\/(test|bench|test-kernel)\//.test(f)), []);
    for (const needed of ['dist/src/index.js', 'dist/src/cli/main.js', 'boards/raspberry-pi-4.yaml', 'native/binding.gyp', 'native/src/udalloc_native.c', 'native/src/ion_abi.h', 'native/ion/Makefile', 'native/ion/ion_shim.c', 'examples/pipelines/raspberry-pi-4-camera.yaml']) assert.ok(files.includes(needed), needed);

    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', join(dir, packed[0]!.filename)], { cwd: app, encoding: 'utf8' });
    assert.strictEqual(install.status, 0, install.stderr);
    assert.ok(existsSync(join(app, 'node_modules/udalloc/native/build/Release/udalloc_native.node')), `installing built the native binding:\n${install.stdout}${install.stderr}`);
    // ... and the ION shim and drop-in libion README's "Running ION programs" points at.
    for (const lib of ['libudalloc-ion.so', 'libion.so']) assert.ok(existsSync(join(app, 'node_modules/udalloc/native/build/ion', lib)), `installing built ${lib}:\n${install.stdout}${install.stderr}`);

    writeFileSync(join(app, 'example.mjs'), readmeLibraryExample());
    const run = spawnSync(process.execPath, ['example.mjs'], { cwd: app, encoding: 'utf8' });
    assert.strictEqual(run.status, 0, run.stderr);
    assert.match(run.stdout, /simulated kernel|dma-heap/);
    assert.match(run.stdout, /HeapHandle #\d \(linux,cma, cma\)/);

    // README's pipeline example, as written.
    const pipelineBlock = /```js\n\/\/ pipeline\.mjs\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))?.[1];
    assert.ok(pipelineBlock, 'README has the pipeline example');
    writeFileSync(join(app, 'pipeline.mjs'), pipelineBlock);
    const piped = spawnSync(process.execPath, ['pipeline.mjs'], { cwd: app, encoding: 'utf8' });
    assert.strictEqual(piped.status, 0, piped.stderr);
    // What README says it prints.
    const printed = /prints, with `node pipeline\.mjs`[^\n]*\n\n```text\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))?.[1];
    assert.strictEqual(piped.stdout, printed);

    // The root exports a chosen list; the simulated kernel and sizing are at udalloc/sim.
    writeFileSync(join(app, 'surface.mjs'), "import * as root from 'udalloc'; import * as sim from 'udalloc/sim'; console.log(JSON.stringify({ root: Object.keys(root), sim: Object.keys(sim) }));");
    const surface = spawnSync(process.execPath, ['surface.mjs'], { cwd: app, encoding: 'utf8' });
    assert.strictEqual(surface.status, 0, surface.stderr);
    const names = JSON.parse(surface.stdout) as { root: string[]; sim: string[] };
    for (const name of ['open', 'negotiate', 'prepare', 'makeRequest', 'connect', 'negotiationJson', 'ConflictError', 'KernelError', 'InputError', 'planPipeline', 'parsePipeline', 'allocatePipeline']) assert.ok(names.root.includes(name), `udalloc exports ${name}`);
    for (const name of ['Bitmap', 'BuddyAllocator', 'O_ACCMODE', 'seededRandom', 'SimKernel', 'compile', 'AllocatorService', 'meminfo']) assert.ok(!names.root.includes(name), `udalloc does not export ${name}`);
    for (const name of ['SimKernel', 'replay', 'sizePools', 'generateScenario', 'TraceRecorder', 'reportHtml']) assert.ok(names.sim.includes(name), `udalloc/sim exports ${name}`);
    assert.ok(names.root.length < 80, `${names.root.length} names at the package root`);

    const cli = spawnSync(join(app, 'node_modules/.bin/udalloc'), ['negotiate', '--platform', 'raspberry-pi-4', '--devices', 'hevc-dec:write,hvs:read', '--size', '1920x1080'], { cwd: app, encoding: 'utf8' });
    assert.strictEqual(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /^plan: NV12 BROADCOM_SAND128 in linux,cma/);
    assert.strictEqual(spawnSync(join(app, 'node_modules/.bin/udalloc'), ['--version'], { encoding: 'utf8' }).stdout.trim(), `udalloc ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`);
  });
});
