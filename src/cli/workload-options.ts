// --trace / --scenario / --seed / --policy, shared by `simulate` and `size`.

import { InputError } from '../errors.js';
import type { Platform } from '../constraints/model.js';
import { PLACEMENT_POLICIES, type PlacementPolicy } from '../kernel/sim/pool.js';
import { generateScenario, SCENARIOS } from '../sim/scenarios.js';
import { deviceParameters, fitScenarioDevices } from '../sim/scenario-fit.js';
import { loadTrace, traceFromEvents, type Trace } from '../sim/trace.js';

export const workloadOptions = {
  trace: { type: 'string', multiple: true },
  scenario: { type: 'string', multiple: true },
  seed: { type: 'string' },
  policy: { type: 'string' },
} as const;

export const workloadHelp = `workload (one or more; at least one):
  --trace FILE          a JSON Lines trace (see README, "Traces")
  --scenario NAME[:k=v,...]
                        a generated workload: ${SCENARIOS.map((s) => s.name).join(', ')}
  --seed N              seed of the scenario generators (default 1)`;

export function loadWorkloads(values: { trace?: string[]; scenario?: string[]; seed?: string }, platform: Platform): Trace[] {
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError(`--seed ${JSON.stringify(values.seed)}: expected a whole number`, 'seed', values.seed);
  const traces = (values.trace ?? []).map((file) => loadTrace(file, platform));
  for (const spec of values.scenario ?? []) {
    const g = generateScenario(spec, seed);
    try {
      traces.push(traceFromEvents(g.events, platform, g.name));
    } catch (err) {
      if (!(err instanceof InputError) || !/no device of that name/.test(err.message)) throw err;
      const name = spec.split(':')[0]!;
      const deviceParams = deviceParameters(name).map(([k, v]) => `${k}=${v}`);
      // Only a suggestion that was tried: it loads, and its requests negotiate on this platform.
      const fitted = fitScenarioDevices(name, platform, seed);
      const hint = fitted.spec
        ? `\n  this works here: --scenario "${fitted.spec}"`
        : fitted.closest
          ? `\n  the devices that fit the roles best (--scenario "${fitted.closest.spec}") cannot run it as it is: ${fitted.closest.why}\n  change the scenario's sizes, or write a trace (see README, "Traces")`
          : '\n  no assignment of this platform\'s devices to the scenario\'s roles negotiates; write a trace instead (see README, "Traces")';
      throw new InputError(`${err.message}\n  the scenario's devices are parameters: ${deviceParams.join(', ')}; this platform has ${platform.devices.map((d) => d.name).join(', ')}${hint}`, err.field, err.value);
    }
  }
  if (traces.length === 0) throw new InputError(`give a workload: --trace FILE or --scenario NAME (${SCENARIOS.map((s) => s.name).join(', ')})`, 'trace');
  // An empty trace replays to nothing and sizes every pool to zero: say so rather than answer quietly.
  for (const t of traces) if (t.events.length === 0) process.stderr.write(`udalloc: warning: ${t.origin} has no events; there is nothing to replay or size\n`);
  return traces;
}

export function policiesFrom(value: string | undefined, allowAll: boolean): PlacementPolicy[] {
  if (value === undefined) return allowAll ? [...PLACEMENT_POLICIES] : ['first-fit'];
  if (allowAll && value === 'all') return [...PLACEMENT_POLICIES];
  if ((PLACEMENT_POLICIES as readonly string[]).includes(value)) return [value as PlacementPolicy];
  throw new InputError(`--policy ${JSON.stringify(value)}: expected ${PLACEMENT_POLICIES.join(', ')}${allowAll ? ' or all' : ''}`, 'policy', value);
}
