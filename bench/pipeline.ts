// Pipelines: planning a 6-edge pipeline (every ring negotiated, a conversion step looked at where
// needed, all rings placed together on an empty simulated kernel) against the sum of its edges'
// single cold negotiations on the same board, in the same run (each edge a request never seen
// before, on a platform nothing has prepared, with the ranked fallbacks allocate() needs; also
// against the best plans alone). Bar (issue 24): <= 3x the first.

import { loadPlatform, makeRequest } from '../src/constraints/load.js';
import { parsePipeline } from '../src/pipeline/description.js';
import { planPipeline } from '../src/pipeline/planner.js';
import { negotiate } from '../src/solver/negotiate.js';
import { timePerCall as time } from './stats.js';

const SIX_EDGES = `name: six-edges
converters: [gpu, cpu]
edges:
  camera:   { from: camera, to: [display, encoder], size: 1920x1080, depth: 4 }
  encoded:  { from: encoder, to: [gpu], size: 1920x1080, depth: 3 }
  ui:       { from: gpu, to: [display], size: 1920x1080, depth: 3 }
  video:    { from: decoder, to: [display], size: 3840x2160, depth: 4 }
  thumbs:   { from: camera, to: [gpu], size: 1280x720, depth: 3 }
  preview:  { from: decoder, to: [gpu], size: 1280x720, depth: 2 }
`;


export function pipelineBench(): void {
  const board = loadPlatform('boards/example.yaml');
  const spec = parsePipeline(SIX_EDGES, board, 'six-edges');
  const planned = planPipeline(board, spec);
  if (!planned.ok) throw new Error(`the bench pipeline does not plan: ${planned.conflict.why}`);
  const edges = spec.edges.map((e) => ({ devices: [`${e.from}:write`, ...e.to.map((t) => `${t}:read`)], width: e.width, height: e.height, count: e.depth }));
  const plan = time(() => planPipeline(board, spec), 1000);
  // A single negotiation as allocate() needs it: the best plan and its ranked fallbacks.
  const single = time(() => {
    for (const fields of edges) {
      const r = negotiate(board, makeRequest(board, fields));
      if (!r.ok || r.alternatives.length === 0) throw new Error('an edge does not plan');
    }
  }, 1000);
  // The same, the best plan alone (what no allocation can do without: no fallback when a heap is full).
  const bestOnly = time(() => {
    for (const fields of edges) if (!negotiate(board, makeRequest(board, fields)).ok) throw new Error('an edge does not plan');
  }, 1000);
  console.log('pipelines: a 6-edge pipeline on the example board, against the sum of its edges\' single cold negotiations (bar <= 3x), medians of 7 loops');
  console.table([{ case: `${spec.edges.length} edges, ${planned.plan.rings.length} rings, ${planned.plan.steps.length} step(s)`, 'pipeline us': +(plan / 1000).toFixed(0), 'sum of edges us': +(single / 1000).toFixed(0), 'pipeline / edges': +(plan / single).toFixed(2), 'bar 3x': plan / single <= 3 ? 'met' : 'missed', 'best plans only us': +(bestOnly / 1000).toFixed(0), 'pipeline / best only': +(plan / bestOnly).toFixed(2) }]);
}
