// Service round trip benchmark (issue 15, part 6): a client's Allocate of one 1 MiB buffer on the
// simulated kernel (negotiation, policy, the simulated heap, a sealed memfd, the plan as JSON) and
// the buffer's close, as a ratio to the least a D-Bus call that returns an fd costs on the same
// private bus: a method that replies with one already-open fd, the client closing what it gets.
// Bar: <= 2x (the service's work must not dominate the IPC). Rounds interleave the two; medians.

import { closeSync, openSync as openFile } from 'node:fs';
import { connectBus, dbus } from '../src/service/bus.js';
import { connect } from '../src/service/client.js';
import { parsePolicy } from '../src/service/policy.js';
import { AllocatorService, openServiceAllocator } from '../src/service/server.js';
import { startBus } from '../test/service/harness.js';
import { median } from './stats.js';

const ROUNDS = 15;
const CALLS = 200;

export async function serviceBench(): Promise<void> {
  const bus = await startBus();
  const service = await AllocatorService.start({ bus: bus.address, allocator: openServiceAllocator('example', 'sim'), policy: parsePolicy(''), scanIntervalMs: 1000 });
  // The bare call: a method whose reply carries one fd it already has open.
  const bare = await connectBus(bus.address);
  const fd = openFile('/dev/zero', 'r');
  bare.addMethodHandler((msg: InstanceType<typeof dbus.Message>) => {
    if (msg.path !== '/bench' || msg.member !== 'GetFd') return false;
    bare.send(dbus.Message.newMethodReturn(msg, 'h', [fd]));
    return true;
  });
  await bare.requestName('org.udalloc.BenchBare', 0);
  const caller = await connectBus(bus.address);
  const bareCall = async () => {
    const reply = await caller.call(new dbus.Message({ destination: 'org.udalloc.BenchBare', path: '/bench', interface: 'org.udalloc.BenchBare', member: 'GetFd' }));
    closeSync(reply!.body[0] as number);
  };
  const udalloc = await connect({ bus: bus.address });
  // 1 MiB: 512x1024 XRGB8888 for the display (a CMA plan), negotiated once as an application does.
  const plan = await udalloc.negotiate({ devices: ['display:read', 'gpu'], width: 512, height: 512, formats: ['XRGB8888'], count: 1 });
  const serviceCall = async () => {
    const [buffer] = await udalloc.allocate(plan);
    buffer!.close();
  };
  for (let i = 0; i < 50; i++) {
    await bareCall();
    await serviceCall();
  }
  const bareTimes: number[] = [];
  const serviceTimes: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    for (let i = 0; i < CALLS; i++) await bareCall();
    bareTimes.push((performance.now() - t) / CALLS);
    t = performance.now();
    for (let i = 0; i < CALLS; i++) await serviceCall();
    serviceTimes.push((performance.now() - t) / CALLS);
  }
  const base = median(bareTimes);
  const ours = median(serviceTimes);
  console.log(`service round trip, ${plan.size} bytes (${plan.heap.describe().kind}), medians of ${ROUNDS} interleaved rounds of ${CALLS} calls`);
  console.table([
    { what: 'bare D-Bus call returning one fd (baseline)', us: +(base * 1000).toFixed(1), ratio: 1 },
    { what: 'service Allocate + close', us: +(ours * 1000).toFixed(1), ratio: +(ours / base).toFixed(3) },
  ]);
  console.log(`bar: service allocate round trip <= 2x a bare fd call: ${(ours / base).toFixed(3)}x ${ours / base <= 2 ? 'PASS' : 'FAIL'}`);
  udalloc.close();
  caller.disconnect();
  bare.disconnect();
  closeSync(fd);
  await service.stop();
  await bus.stop();
}
