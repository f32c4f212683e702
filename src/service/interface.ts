// The service's D-Bus face: its well-known name, object path, interface, the named errors it
// replies with, and the introspection XML (packaging/org.udalloc.Allocator1.xml is a copy, checked
// by a test). Clients never name a heap: heaps appear as opaque handles with properties.

export const BUS_NAME = 'org.udalloc.Allocator1';
export const OBJECT_PATH = '/org/udalloc/Allocator1';
export const INTERFACE = 'org.udalloc.Allocator1';

/**
 * Every error the service replies with has one of these names. The body is one string (what GDBus,
 * sd-bus and libdbus clients expect): the message, then a last line "details: {JSON}".
 */
export const DETAILS_PREFIX = 'details: ';

export const ERRORS = {
  /** The request text or options are malformed; details name the field and value. */
  BadRequest: `${INTERFACE}.Error.BadRequest`,
  /** No plan satisfies every device; details carry the conflicting atoms, the core and verified fixes. */
  Conflict: `${INTERFACE}.Error.Conflict`,
  /** The caller's quota for a heap kind would be exceeded; details: quota, charged, asked, held buffers. */
  QuotaExceeded: `${INTERFACE}.Error.QuotaExceeded`,
  /** The policy keeps the caller away from every heap the plan could use. */
  PolicyDenied: `${INTERFACE}.Error.PolicyDenied`,
  /** Allocating would eat into the CMA the service keeps free. */
  ReserveKept: `${INTERFACE}.Error.ReserveKept`,
  /** Every ranked plan's heap was out of memory (the kernel's errnos in details). */
  OutOfMemory: `${INTERFACE}.Error.OutOfMemory`,
  /** The kernel refused something other than memory (details: errno and the call). */
  Kernel: `${INTERFACE}.Error.Kernel`,
  /** The service could not tell who is calling (the bus gave no credentials). */
  UnknownCaller: `${INTERFACE}.Error.UnknownCaller`,
  /** Wrong argument types for the method (standard D-Bus name). */
  InvalidArgs: 'org.freedesktop.DBus.Error.InvalidArgs',
  /** No such method on this object (standard D-Bus name). */
  UnknownMethod: 'org.freedesktop.DBus.Error.UnknownMethod',
  /** A bug in the service: the message says what failed. */
  Internal: `${INTERFACE}.Error.Internal`,
} as const;

export type ErrorName = keyof typeof ERRORS;

/** Method name -> the argument signature it takes and the one it returns. */
export const METHODS = {
  Negotiate: { in: 's', out: 's' },
  Explain: { in: 's', out: 's' },
  Allocate: { in: 'sa{sv}', out: 'sah' },
  AllocatePipeline: { in: 'sa{sv}', out: 'sah' },
  ListHeaps: { in: '', out: 'aa{sv}' },
  GetUsage: { in: '', out: 's' },
} as const;

export type MethodName = keyof typeof METHODS;

export const INTROSPECTION_XML = `<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node name="${OBJECT_PATH}">
  <!--
    org.udalloc.Allocator1: negotiates shared device buffers and hands them out as Unix fds.
    Requests are the YAML or JSON text "udalloc negotiate --request FILE" takes, e.g.
      {"devices": ["camera:write", "display:read"], "width": 1920, "height": 1080, "count": 4}
    Errors are named org.udalloc.Allocator1.Error.* (BadRequest, Conflict, QuotaExceeded,
    PolicyDenied, ReserveKept, OutOfMemory, Kernel, UnknownCaller, Internal: a bug) whose one string argument is
    the message, then a last line "details: " and a JSON object (field and value, conflict atoms
    and fixes, quota numbers and the buffers that hold it).
  -->
  <interface name="${INTERFACE}">
    <!-- The best plan and its ranked alternatives, in heaps the caller may use, as JSON: heap (handle),
         heapKind, format, fourcc (number), modifier, modifierValue ("0x" and 16 hex digits),
         width, height, size, count, alignment, cpu, planes (offset, pitch, size), alternatives,
         rationale. -->
    <method name="Negotiate">
      <arg name="request" type="s" direction="in"/>
      <arg name="plan" type="s" direction="out"/>
    </method>
    <!-- A plan or the conflict (atoms, core, verified fixes), and every format's and heap's verdict, as JSON; never a Conflict error. -->
    <method name="Explain">
      <arg name="request" type="s" direction="in"/>
      <arg name="explanation" type="s" direction="out"/>
    </method>
    <!-- Allocates the request's buffers: the layout they follow (JSON: heap handle, format,
         modifier, planes, size, count, and "bufferFds": "dma-buf" or, on the simulated kernel,
         "memfd") and one fd per buffer of that size. Options: "name" (s). -->
    <method name="Allocate">
      <arg name="request" type="s" direction="in"/>
      <arg name="options" type="a{sv}" direction="in"/>
      <arg name="plan" type="s" direction="out"/>
      <arg name="fds" type="ah" direction="out"/>
    </method>
    <!-- Plans a pipeline (the YAML or JSON text "udalloc pipeline plan FILE" takes: edges from
         device to devices, each a ring of buffers) and allocates every ring together: JSON with
         the plan (name, steps, pools, bytes) and "rings", each with edge, part, producer,
         consumers, its layout and "fds" (indices into the fds returned). All rings or none. -->
    <method name="AllocatePipeline">
      <arg name="pipeline" type="s" direction="in"/>
      <arg name="options" type="a{sv}" direction="in"/>
      <arg name="plan" type="s" direction="out"/>
      <arg name="fds" type="ah" direction="out"/>
    </method>
    <!-- Heaps as opaque handles with properties: handle (u), kind (s), capacity (t), free (t),
         contiguous (b), cpu-access (b), reachable (b: whether the policy lets the caller use it). -->
    <method name="ListHeaps">
      <arg name="heaps" type="aa{sv}" direction="out"/>
    </method>
    <!-- The caller's charges as JSON: who the bus says it is, bytes per heap kind, quotas, and the
         buffers still held by any process (by inode). -->
    <method name="GetUsage">
      <arg name="usage" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect">
      <arg name="xml" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
    <method name="GetMachineId">
      <arg name="machine_uuid" type="s" direction="out"/>
    </method>
  </interface>
</node>
`;
