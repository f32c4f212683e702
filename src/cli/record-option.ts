// --record FILE: traces appended by separate command runs must stay valid when concatenated, so
// times are seconds since the Unix epoch (never decreasing across runs) and ids carry the pid.

import { TraceRecorder } from '../sim/record.js';

export function cliRecorder(): TraceRecorder {
  return new TraceRecorder({ epoch: 0, idPrefix: `${process.pid}-${Date.now().toString(36)}-` });
}
