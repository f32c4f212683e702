// An independent statement of every constraint, device by device, used to check plans (by the
// property tests' brute-force oracle and by callers who build plans themselves). It deliberately
// does not reuse the solver's merged problem: it re-reads each device's own rules.
import { rowBytesOf, type FormatInfo } from '../constraints/formats.js';
import { accessCovers, implicitPitch, modifierAccessOf, PAGE_SIZE, type Platform, type Request } from '../constraints/model.js';
import { shortModifierName } from '../constraints/modifiers.js';
import { formatAddress, formatBytes } from '../constraints/units.js';
import { emptyHeapCapacity, framesExtent, guaranteedAlignment, minimumPoolSize } from '../constraints/placement.js';
import type { Placement } from './solve.js';

/** Every violated constraint, as "device: what"; empty when the plan satisfies everything. */
export function violations(platform: Platform, request: Request, plan: Placement): string[] {
  const out: string[] = [];
  const { heap, format, modifier, planes, size } = plan;
  if (!request.formats.includes(format)) out.push(`request: ${format.name} not accepted`);
  // The dma-bufs of one frame: the buffer, or a multi-planar format's one per plane.
  const units = plan.buffers ?? [size];
  if (plan.buffers && (!format.planeBuffers || plan.buffers.length !== planes.length || plan.buffers.reduce((a, b) => a + b, 0) !== size)) out.push(`buffers ${plan.buffers.join('+')}: not one per plane of ${format.name} summing to ${size}`);
  if (!plan.buffers && format.planeBuffers) out.push(`${format.name} takes a buffer per plane, the plan has one`);
  for (const unit of units) if (unit % PAGE_SIZE !== 0) out.push(`size ${unit} not page aligned`);
  if (request.protected && !heap.secure) out.push(`request: a protected buffer needs a secure heap, and ${heap.name} is not one`);
  if (!request.protected && heap.secure) out.push(`request: ${heap.name} is a secure heap, for protected buffers only`);
  if (request.cpu !== 'none' && !heap.cpuAccess) out.push(`request: CPU ${request.cpu} access, but ${heap.name} is not CPU-mappable`);
  // Only one reason per heap: a buffer larger than the heap hands out, or too many for its room.
  const largest = Math.max(...units);
  if (largest > heap.maxBuffer && largest <= heap.size) out.push(`heap ${heap.name}: a ${largest}-byte buffer is larger than the ${heap.maxBuffer} bytes it hands out at once`);
  else if (plan.buffers) {
    const need = framesExtent(heap, plan.buffers, plan.count);
    if (need > heap.size) out.push(`heap ${heap.name}: ${plan.count} frames of ${plan.buffers.join(' + ')} bytes need ${need} bytes as the kernel places them, it has ${heap.size} (${formatBytes(heap.size)})`);
  } else if (emptyHeapCapacity(heap, size) < plan.count) {
    const need = minimumPoolSize(heap, size, plan.count);
    out.push(`heap ${heap.name}: ${plan.count} x ${size} bytes need ${need} bytes as the kernel places them${need > size * plan.count ? ' (alignment padding included)' : ''}, it has ${heap.size} (${formatBytes(heap.size)})`);
  }
  if (plan.buffers) planes.forEach((p, i) => {
    if (p.offset !== 0 || p.size > plan.buffers![i]!) out.push(`plane ${i} (at ${p.offset}, ${p.size} bytes) overruns its buffer of ${plan.buffers![i]} bytes`);
  });
  else {
    const last = planes[planes.length - 1]!;
    if (last.offset + last.size > size) out.push('planes overrun the buffer');
  }
  for (const name of request.devices) {
    const d = platform.devices.find((x) => x.name === name)!;
    const rule = d.formats.get(format.name);
    if (!rule) {
      out.push(`${name}: format ${format.name} unsupported`);
      continue;
    }
    const need = request.access.get(name);
    if (need !== undefined && !accessCovers(rule.access, need)) out.push(`${name}: ${format.name} is ${rule.access}-only for it, the request has it ${need}`);
    else if (need !== undefined && !accessCovers(modifierAccessOf(rule, modifier), need)) out.push(`${name}: ${format.name} ${shortModifierName(modifier)} is ${modifierAccessOf(rule, modifier)}-only for it, the request has it ${need}`);
    if (!rule.modifiers.includes(modifier)) out.push(`${name}: modifier ${shortModifierName(modifier)} unsupported for ${format.name}`);
    if (rule.maxWidth !== undefined && request.width > rule.maxWidth) out.push(`${name}: width ${request.width} > ${rule.maxWidth}`);
    if (rule.maxHeight !== undefined && request.height > rule.maxHeight) out.push(`${name}: height ${request.height} > ${rule.maxHeight}`);
    planes.forEach((p, i) => {
      if (p.pitch % rule.pitchAlign !== 0) out.push(`${name}: plane ${i} pitch ${p.pitch} not a multiple of ${rule.pitchAlign}`);
      if (p.offset % rule.offsetAlign !== 0) out.push(`${name}: plane ${i} offset ${p.offset} not a multiple of ${rule.offsetAlign}`);
      if (rule.maxPitch !== undefined && p.pitch > rule.maxPitch) out.push(`${name}: plane ${i} pitch ${p.pitch} > max pitch ${rule.maxPitch}`);
      // Rows hold the width padded to the device's step (widthAlign), in whole chroma samples.
      const stepped = Math.ceil(request.width / rule.widthAlign) * rule.widthAlign;
      const rowBytes = rowBytesOf(format.planes[i]!, Math.ceil(stepped / (i === 0 ? 1 : format.hsub)));
      if (p.pitch < rowBytes) out.push(`${name}: plane ${i} pitch ${p.pitch} holds fewer than the ${rowBytes} bytes of a row ${stepped} pixels wide`);
      const subsample = i === 0 ? 1 : format.vsub;
      const minRows = Math.ceil(Math.ceil(request.height / rule.heightAlign) * rule.heightAlign / subsample);
      if (p.rows < minRows) out.push(`${name}: plane ${i} has ${p.rows} rows, needs ${minRows}`);
    });
    if (rule.implicitPlaneOffsets) {
      // The device finds planes 1.. itself: each right after the previous, pitch derived from plane 0's.
      for (let i = 1; i < planes.length; i++) {
        const prev = planes[i - 1]!;
        // (A multi-planar format's planes each start a buffer: only their pitches are derived.)
        if (!plan.buffers && planes[i]!.offset !== prev.offset + prev.size) out.push(`${name}: plane ${i} at ${planes[i]!.offset}, but it looks for it right after plane ${i - 1} (${prev.offset + prev.size})`);
        if (planes[i]!.pitch !== implicitPitch(planes[0]!.pitch, format, i)) out.push(`${name}: plane ${i} pitch ${planes[i]!.pitch}, but it derives ${implicitPitch(planes[0]!.pitch, format, i)} from plane 0's`);
      }
      if (modifier.layout.kind !== 'linear') out.push(`${name}: finds ${format.name}'s planes itself only in a linear layout`);
    }
    for (const unit of units) {
      if (unit % d.sizeAlign !== 0) out.push(`${name}: size ${unit} not a multiple of ${d.sizeAlign}`);
      if (d.maxSize !== undefined && unit > d.maxSize) out.push(`${name}: size ${unit} > max ${d.maxSize}`);
    }
    if (d.heaps && !d.heaps.includes(heap.name)) out.push(`${name}: cannot reach heap ${heap.name}`);
    if (d.protected === 'required' && !heap.secure) out.push(`${name}: needs protected memory`);
    if (d.protected === 'forbidden' && heap.secure) out.push(`${name}: cannot use protected memory`);
    if (!d.iommu) {
      if (!heap.contiguous) out.push(`${name}: no IOMMU, heap ${heap.name} not contiguous`);
      if (d.dmaBits !== undefined && heap.end > 2 ** d.dmaBits) out.push(`${name}: no IOMMU, heap ${heap.name} ${Number.isFinite(heap.end) ? `ends at ${formatAddress(heap.end)}` : 'may lie anywhere in RAM'}, above its ${d.dmaBits}-bit DMA limit`);
      for (const unit of units) if (guaranteedAlignment(heap, unit) % d.alignment !== 0) out.push(`${name}: base alignment ${guaranteedAlignment(heap, unit)} not a multiple of ${d.alignment}`);
    }
  }
  return out;
}
