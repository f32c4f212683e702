// YAML or JSON text to plain data for the small files that need no line numbers (the service's
// policy, a request sent to the service), with the loader's safeguards: problems are errors,
// never warnings on stderr, and aliases expand at most 50 times (constraints/load.ts reads
// profiles and requests the same way, with line numbers).

import { parseDocument } from 'yaml';
import { InputError } from '../errors.js';

/** The document's data ({} when empty); `what` names the language in the error ("YAML or JSON"). */
export function yamlData(text: string, origin: string, field: string, what = 'YAML'): unknown {
  const doc = parseDocument(text, { prettyErrors: false, logLevel: 'error' });
  const fail = (message: string) => new InputError(`${origin}: not valid ${what}: ${message.split('\n')[0]}`, field, origin);
  if (doc.errors[0]) throw fail(doc.errors[0].message);
  try {
    return doc.toJS({ maxAliasCount: 50 }) ?? {};
  } catch (err) {
    // An alias without its anchor ("*name"), or one expanding past maxAliasCount.
    throw fail(err instanceof Error ? err.message : String(err));
  }
}
