// Which of the devices' size bounds (the rule table's limits a smaller size answers: maxWidth,
// maxHeight, maxPitch, maxSize) the request's size is over: what a size fix, the conflict's order
// of fixes and `explain` say about it.

import type { Platform, Request } from '../constraints/model.js';
import { DEVICE_RULES, LAYOUT_RULES } from '../constraints/rules/index.js';

/** "encoder takes NV12 only up to 1920 pixels wide (source)", for each bound of each device and requested format. */
export function sizeBoundReasons(platform: Platform, request: Request, withSources = true): string[] {
  const reasons: string[] = [];
  for (const name of request.devices) {
    const d = platform.devices.find((x) => x.name === name)!;
    for (const f of request.formats) {
      const rule = d.formats.get(f.name);
      if (!rule) continue;
      for (const r of LAYOUT_RULES) {
        const why = r.sizeBound?.exceeded(rule, request.width, request.height);
        if (why !== undefined) reasons.push(`${name} ${why}${withSources ? ` (${rule.source})` : ''}`);
      }
    }
    for (const r of DEVICE_RULES) {
      const why = r.sizeBound?.exceeded(d);
      if (why !== undefined) reasons.push(`${name} ${why}${withSources ? ` (${d.sources[r.name]})` : ''}`);
    }
  }
  return reasons;
}
