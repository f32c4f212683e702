// udalloc negotiate: platform profile + request -> plan (exit 0) or conflict (exit 3).

import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { cliRecorder } from './record-option.js';
import { checkOutputPath, writeOutput } from './output-file.js';
import { platformFromOption, platformHelp } from './platform-option.js';
import { negotiate } from '../solver/index.js';
import { allocatesOnEmptyHeaps } from '../kernel/sim/index.js';
import { explainChoices } from '../solver/explain-choices.js';
import { choicesText, negotiationJson, negotiationText } from './output.js';
import { onService, requestText, serviceHelp } from './service-client.js';
import { requestFieldsFromFlags, requestFromCommandLine, requestHelp, requestOptions } from './request-flags.js';

const HELP = `usage: udalloc negotiate [--platform FILE | --service [ADDRESS]] [--request FILE] [request flags] [--json]
       udalloc explain   [--platform FILE | --service [ADDRESS]] [--request FILE] [request flags] [--json]

negotiate prints the plan and why each device accepts it, or the conflict and its fixes. explain
adds, for every format the request accepts and every heap, whether it was chosen, possible, or
excluded and by which device's constraint.

${platformHelp}
  --json                print one JSON object instead of text
  --alternatives N      how many ranked alternatives to list (default 8)
  --record FILE         append the request to a trace (JSON Lines) for simulate/size
${serviceHelp}
${requestHelp}`;

/** The command's flags (parseArgs options); main.ts suggests the closest one for a typo. */
export const negotiateOptions = { ...requestOptions, service: { type: 'string' }, platform: { type: 'string' }, json: { type: 'boolean' }, alternatives: { type: 'string' }, record: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export function negotiateCommand(args: string[], mode: 'negotiate' | 'explain' = 'negotiate'): number | Promise<number> {
  const { values } = parseArgs({
    args,
    options: negotiateOptions,
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  let alternatives: number | undefined;
  if (values.alternatives !== undefined) {
    if (!/^\d+$/.test(values.alternatives) || Number(values.alternatives) > 1000) throw new InputError(`--alternatives ${JSON.stringify(values.alternatives)}: must be a whole number up to 1000`, 'alternatives', values.alternatives);
    alternatives = Number(values.alternatives);
  }
  if (values.service !== undefined) return onService(values.service, mode, { request: requestText(values.request, requestFieldsFromFlags(values)), json: values.json });
  if (values.record !== undefined) checkOutputPath(values.record, '--record');
  const platform = platformFromOption(values.platform);
  const request = requestFromCommandLine(values.request, platform, requestFieldsFromFlags(values));
  const result = negotiate(platform, request, { alternatives, check: allocatesOnEmptyHeaps });
  // A negotiation holds no memory: it is recorded as a request asked for and let go at once,
  // conflicts included (so `udalloc size` can size the pool a failing request needs).
  if (values.record !== undefined) {
    const recorder = cliRecorder();
    recorder.momentary(request);
    writeOutput(values.record, recorder.drain(), '--record', true);
  }
  if (mode === 'explain') {
    const choices = explainChoices(platform, request, result);
    process.stdout.write(`${values.json ? JSON.stringify({ ...negotiationJson(result, request), choices }) : `${negotiationText(result)}\n${choicesText(choices)}`}\n`);
  } else {
    process.stdout.write(`${values.json ? JSON.stringify(negotiationJson(result, request)) : negotiationText(result)}\n`);
  }
  return result.ok ? 0 : 3;
}
