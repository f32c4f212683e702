// Turns a minimal correction set into concrete advice. Each atom of the set gets one sentence,
// made specific by the plan that exists once the whole set is relaxed (the "relaxed plan").

import type { Platform, Request } from '../constraints/model.js';
import { shortModifierName } from '../constraints/modifiers.js';
import { formatAddress, formatBytes } from '../constraints/units.js';
import type { Atom } from './atoms.js';
import type { Placement } from './solve.js';

function list(values: readonly string[]): string {
  return values.length <= 6 ? values.join(', ') : `${values.slice(0, 6).join(', ')} and ${values.length - 6} more`;
}

function atomFix(atom: Atom, core: readonly Atom[], relaxed: Placement | undefined, platform: Platform, request: Request): string {
  const d = atom.device;
  const f = relaxed?.format.name;
  const m = relaxed ? shortModifierName(relaxed.modifier) : undefined;
  const heap = relaxed?.heap;
  switch (atom.constraint) {
    case 'formats': {
      if (atom.request) return f ? `accept ${f} in the request: every device can share it` : 'accept more formats in the request';
      const others = core.filter((a) => a.constraint === 'formats' && a.device !== undefined && a.device !== d).map((a) => a.device!);
      const peers = others.length > 0 ? others.join(' and ') : 'the other devices';
      return `${d} and ${peers} share no format the request accepts (${d}: ${list(atom.value as string[])}): add a conversion copy between ${d} and ${peers}${f ? ` (they share ${f})` : ''}, or drop ${d} from the request`;
    }
    case 'access': {
      const need = request.access.get(d!)!;
      if (Array.isArray(atom.value)) {
        // Modifier-level: the device uses these layouts only one way (EGL external_only: sample only).
        const layouts = (atom.value as string[]).map((v) => v.split(':')[0]!);
        const verb = need === 'readwrite' ? 'read and write' : need;
        const allowed = (atom.value as string[])[0]!.split(': ')[1]!;
        return `${d} cannot ${verb} ${atom.format} as ${list(layouts)} (${list(atom.value as string[])}), which the others need: if ${d} only ${allowed === 'read' ? 'reads' : 'writes'} it, say ${d}:${allowed}; otherwise add a copy step for ${d}`;
      }
      const verb = (a: string): string => (a === 'read' ? 'read' : a === 'write' ? 'write' : 'read and write');
      return `${d} can only ${verb(String(atom.value))} ${atom.format} but the request has it ${need === 'readwrite' ? 'reading and writing' : need === 'read' ? 'reading' : 'writing'} the buffer: if ${d} only ${atom.value === 'read' ? 'reads' : 'writes'} it, say ${d}:${String(atom.value)}; otherwise give ${d} its own ${atom.format} buffer with a copy step${f && f !== atom.format ? `, or use ${f}` : ''}`;
    }
    case 'modifiers':
      return `${d} cannot read or write ${atom.format} as ${m ?? 'the layout the others need'} (it supports ${list(atom.value as string[])}): add a (de)tiling copy for ${d}, or give it ${m ?? 'a shared'} support`;
    case 'pitchAlign':
    case 'heightAlign':
    case 'offsetAlign':
      return `${d}'s ${atom.constraint} ${String(atom.value)} for ${atom.format} makes the buffer too large for the available heaps: relax it if the hardware allows`;
    case 'maxWidth':
    case 'maxHeight':
      return `${d} handles ${atom.format} only up to ${String(atom.value)} pixels ${atom.constraint === 'maxWidth' ? 'wide' : 'high'} but the request is ${request.width}x${request.height}: scale down, or let another device read a smaller copy`;
    case 'iommu':
      return `${d} has no IOMMU and needs physically contiguous memory${heap && !heap.contiguous ? `, but only ${heap.name} (not contiguous) fits` : ''}: route ${d} through an IOMMU, or provide a contiguous pool (CMA or carveout) that every device reaches and that is large enough`;
    case 'dmaBits': {
      const limit = 2 ** (atom.value as number);
      return `${d} can address only below ${formatAddress(limit)} (${String(atom.value)}-bit DMA)${heap ? `, but ${heap.name} ends at ${formatAddress(heap.end)}` : ''}: place a contiguous pool below ${formatBytes(limit)} (device-tree reg or alloc-ranges), or give ${d} an IOMMU`;
    }
    case 'alignment':
      return `${d} needs ${formatBytes(atom.value as number)} physical base alignment${heap ? `, which ${heap.name} cannot guarantee` : ''}: use a CMA heap with a larger CONFIG_CMA_ALIGNMENT, or a carveout aligned for it`;
    case 'heaps':
      return `${d} can reach only ${list(atom.value as string[])}${heap ? `; link it to ${heap.name} too (a memory-region in its device-tree node)` : ': link it to a heap the others can use'}`;
    case 'maxSize':
      return `${d} accepts buffers up to ${formatBytes(atom.value as number)}${relaxed ? ` but this one needs ${formatBytes(relaxed.size)}` : ''}: lower the resolution or pick a smaller format`;
    case 'sizeAlign':
      return `${d}'s size alignment ${formatBytes(atom.value as number)} makes the buffer too large: relax it if the hardware allows`;
    case 'protected':
      if (atom.request) {
        return atom.value
          ? `a protected buffer needs a secure heap that every device reaches and none is: add one, or allocate an unprotected buffer`
          : `no ordinary heap fits${heap ? `; only the secure heap ${heap.name} does: make the buffer protected` : ''}`;
      }
      return atom.value === 'required'
        ? `${d} works only on protected memory and no secure heap fits: add a secure heap every device reaches`
        : `${d} cannot use protected memory but the buffer must be protected: leave ${d} out of the protected pipeline`;
    case 'cpu':
      return `CPU ${String(atom.value)} access needs a CPU-mappable heap${heap ? `, and only ${heap.name} (not mappable) fits` : ''}: set cpu: none and let a device copy the data out`;
    case 'capacity': {
      const h = platform.heaps.find((x) => x.name === atom.heap)!;
      if (relaxed && relaxed.heap.name === h.name) {
        const need = relaxed.size * relaxed.count;
        if (relaxed.size > h.maxBuffer) return `${h.name} hands out at most ${formatBytes(h.maxBuffer)} per buffer but one buffer needs ${formatBytes(relaxed.size)}`;
        const fits = Math.floor(h.size / relaxed.size);
        return `${h.name} needs ${formatBytes(need - h.size)} more (${need} bytes for ${relaxed.count} x ${relaxed.size}, it has ${h.size})${fits > 0 ? `, or ask for ${fits} buffer${fits === 1 ? '' : 's'} instead of ${relaxed.count}` : ''}`;
      }
      return `${h.name} (${formatBytes(h.size)}) is too small for this request: grow it`;
    }
  }
}

/** One sentence per atom of the correction set, most specific first. */
export function suggestFixes(correction: readonly Atom[], core: readonly Atom[], relaxed: Placement | undefined, platform: Platform, request: Request): string[] {
  const fixes = correction.map((a) => atomFix(a, core, relaxed, platform, request));
  const devices = new Set(correction.map((a) => a.device).filter((d) => d !== undefined));
  if (correction.length > 1 && devices.size === 1 && correction.every((a) => a.device !== undefined)) {
    const [d] = devices;
    fixes.push(`or drop ${d} from the request and give it its own buffer with a copy step`);
  }
  return fixes;
}
