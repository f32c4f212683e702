/*
 * V4L2 ioctls for live device discovery and for importing udalloc's dma-bufs into a capture queue:
 * QUERYCAP, ENUM_FMT, TRY_FMT/S_FMT, REQBUFS, QBUF/DQBUF with V4L2_MEMORY_DMABUF (a dma-buf per plane
 * on multi-planar queues), STREAMON/OFF, S_CTRL.
 * Structures and numbers come from the kernel's uapi header <linux/videodev2.h>; the layouts this
 * file relies on are checked below. The file descriptor is opened and closed by JavaScript.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/videodev2.h>

#include "udalloc_native.h"

_Static_assert(sizeof(struct v4l2_capability) == 104, "v4l2_capability is 104 bytes");
_Static_assert(sizeof(struct v4l2_fmtdesc) == 64, "v4l2_fmtdesc is 64 bytes");
_Static_assert(sizeof(struct v4l2_requestbuffers) == 20, "v4l2_requestbuffers is 20 bytes");
_Static_assert(offsetof(struct v4l2_requestbuffers, capabilities) == 12, "requestbuffers.capabilities at 12");
_Static_assert(VIDIOC_QUERYCAP == 0x80685600u, "VIDIOC_QUERYCAP");
_Static_assert(VIDIOC_ENUM_FMT == 0xC0405602u, "VIDIOC_ENUM_FMT");
_Static_assert(VIDIOC_REQBUFS == 0xC0145608u, "VIDIOC_REQBUFS");
_Static_assert(V4L2_BUF_CAP_SUPPORTS_DMABUF == 4, "V4L2_BUF_CAP_SUPPORTS_DMABUF");
_Static_assert(V4L2_MEMORY_DMABUF == 4, "V4L2_MEMORY_DMABUF");
_Static_assert(VIDIOC_S_CTRL == 0xC008561Cu, "VIDIOC_S_CTRL");
_Static_assert(sizeof(struct v4l2_plane) == 64, "v4l2_plane is 64 bytes");
_Static_assert(VIDEO_MAX_PLANES == 8, "VIDEO_MAX_PLANES");

#define ARGS(n)                                                                  \
  size_t argc = n;                                                               \
  napi_value argv[n];                                                            \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) \
    return udalloc_throw_errno(env, "udalloc native: arguments", EINVAL);

static int is_mplane(uint32_t type) {
  return type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE || type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
}

/* v4l2QueryCap(fd) -> { driver, card, busInfo, version, capabilities, deviceCaps } */
static napi_value query_cap(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!udalloc_arg_i32(env, argv[0], &fd)) return udalloc_throw_errno(env, "VIDIOC_QUERYCAP", EINVAL);
  struct v4l2_capability cap;
  memset(&cap, 0, sizeof cap);
  if (ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) return udalloc_throw_errno(env, "VIDIOC_QUERYCAP", errno);
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok) return NULL;
  if (!udalloc_put_string(env, out, "driver", (const char *)cap.driver, sizeof cap.driver) ||
      !udalloc_put_string(env, out, "card", (const char *)cap.card, sizeof cap.card) ||
      !udalloc_put_string(env, out, "busInfo", (const char *)cap.bus_info, sizeof cap.bus_info) ||
      !udalloc_put_number(env, out, "version", cap.version) || !udalloc_put_number(env, out, "capabilities", cap.capabilities) ||
      !udalloc_put_number(env, out, "deviceCaps", (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities))
    return NULL;
  return out;
}

/* v4l2EnumFmt(fd, type, index) -> { pixelformat, description, flags }, or null past the last (EINVAL) */
static napi_value enum_fmt(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, type, index;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &type) || !udalloc_arg_i32(env, argv[2], &index))
    return udalloc_throw_errno(env, "VIDIOC_ENUM_FMT", EINVAL);
  struct v4l2_fmtdesc desc;
  memset(&desc, 0, sizeof desc);
  desc.index = (uint32_t)index;
  desc.type = (uint32_t)type;
  if (ioctl(fd, VIDIOC_ENUM_FMT, &desc) < 0) {
    if (errno == EINVAL) {
      napi_value null;
      napi_get_null(env, &null);
      return null;
    }
    return udalloc_throw_errno(env, "VIDIOC_ENUM_FMT", errno);
  }
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok) return NULL;
  if (!udalloc_put_number(env, out, "pixelformat", desc.pixelformat) || !udalloc_put_number(env, out, "flags", desc.flags) ||
      !udalloc_put_string(env, out, "description", (const char *)desc.description, sizeof desc.description))
    return NULL;
  return out;
}

/*
 * v4l2Format(fd, type, width, height, pixelformat, bytesperline, set) -> what the driver made of it:
 * { width, height, pixelformat, field, planes: [{ bytesperline, sizeimage }] }. TRY_FMT unless
 * `set` (S_FMT). bytesperline 0 lets the driver choose.
 */
static napi_value format(napi_env env, napi_callback_info info) {
  ARGS(7);
  int32_t fd, type, width, height, bpl;
  uint64_t pixelformat;
  bool set;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &type) || !udalloc_arg_i32(env, argv[2], &width) ||
      !udalloc_arg_i32(env, argv[3], &height) || !udalloc_arg_u64(env, argv[4], &pixelformat) || !udalloc_arg_i32(env, argv[5], &bpl) ||
      napi_get_value_bool(env, argv[6], &set) != napi_ok)
    return udalloc_throw_errno(env, "VIDIOC_TRY_FMT", EINVAL);
  const char *op = set ? "VIDIOC_S_FMT" : "VIDIOC_TRY_FMT";
  struct v4l2_format f;
  memset(&f, 0, sizeof f);
  f.type = (uint32_t)type;
  if (is_mplane((uint32_t)type)) {
    f.fmt.pix_mp.width = (uint32_t)width;
    f.fmt.pix_mp.height = (uint32_t)height;
    f.fmt.pix_mp.pixelformat = (uint32_t)pixelformat;
    f.fmt.pix_mp.field = V4L2_FIELD_NONE;
    f.fmt.pix_mp.plane_fmt[0].bytesperline = (uint32_t)bpl;
  } else {
    f.fmt.pix.width = (uint32_t)width;
    f.fmt.pix.height = (uint32_t)height;
    f.fmt.pix.pixelformat = (uint32_t)pixelformat;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    f.fmt.pix.bytesperline = (uint32_t)bpl;
  }
  if (ioctl(fd, set ? VIDIOC_S_FMT : VIDIOC_TRY_FMT, &f) < 0) return udalloc_throw_errno(env, op, errno);
  napi_value out, planes, plane;
  if (napi_create_object(env, &out) != napi_ok || napi_create_array(env, &planes) != napi_ok) return NULL;
  if (is_mplane((uint32_t)type)) {
    if (!udalloc_put_number(env, out, "width", f.fmt.pix_mp.width) || !udalloc_put_number(env, out, "height", f.fmt.pix_mp.height) ||
        !udalloc_put_number(env, out, "pixelformat", f.fmt.pix_mp.pixelformat) || !udalloc_put_number(env, out, "field", f.fmt.pix_mp.field))
      return NULL;
    for (uint32_t i = 0; i < f.fmt.pix_mp.num_planes && i < VIDEO_MAX_PLANES; i++) {
      if (napi_create_object(env, &plane) != napi_ok || !udalloc_put_number(env, plane, "bytesperline", f.fmt.pix_mp.plane_fmt[i].bytesperline) ||
          !udalloc_put_number(env, plane, "sizeimage", f.fmt.pix_mp.plane_fmt[i].sizeimage) || napi_set_element(env, planes, i, plane) != napi_ok)
        return NULL;
    }
  } else {
    if (!udalloc_put_number(env, out, "width", f.fmt.pix.width) || !udalloc_put_number(env, out, "height", f.fmt.pix.height) ||
        !udalloc_put_number(env, out, "pixelformat", f.fmt.pix.pixelformat) || !udalloc_put_number(env, out, "field", f.fmt.pix.field))
      return NULL;
    if (napi_create_object(env, &plane) != napi_ok || !udalloc_put_number(env, plane, "bytesperline", f.fmt.pix.bytesperline) ||
        !udalloc_put_number(env, plane, "sizeimage", f.fmt.pix.sizeimage) || napi_set_element(env, planes, 0, plane) != napi_ok)
      return NULL;
  }
  if (napi_set_named_property(env, out, "planes", planes) != napi_ok) return NULL;
  return out;
}

/* v4l2ReqBufs(fd, type, memory, count) -> { count, capabilities } */
static napi_value req_bufs(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, type, memory, count;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &type) || !udalloc_arg_i32(env, argv[2], &memory) ||
      !udalloc_arg_i32(env, argv[3], &count))
    return udalloc_throw_errno(env, "VIDIOC_REQBUFS", EINVAL);
  struct v4l2_requestbuffers req;
  memset(&req, 0, sizeof req);
  req.count = (uint32_t)count;
  req.type = (uint32_t)type;
  req.memory = (uint32_t)memory;
  if (ioctl(fd, VIDIOC_REQBUFS, &req) < 0) return udalloc_throw_errno(env, "VIDIOC_REQBUFS", errno);
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok || !udalloc_put_number(env, out, "count", req.count) ||
      !udalloc_put_number(env, out, "capabilities", req.capabilities))
    return NULL;
  return out;
}

/* v4l2QueueDmabuf(fd, type, index, dmabufFd, length): QBUF a single-plane buffer by dma-buf fd. */
static napi_value queue_dmabuf(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t fd, type, index, dmabuf;
  uint64_t length;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &type) || !udalloc_arg_i32(env, argv[2], &index) ||
      !udalloc_arg_i32(env, argv[3], &dmabuf) || !udalloc_arg_u64(env, argv[4], &length))
    return udalloc_throw_errno(env, "VIDIOC_QBUF", EINVAL);
  struct v4l2_buffer buf;
  struct v4l2_plane plane;
  memset(&buf, 0, sizeof buf);
  memset(&plane, 0, sizeof plane);
  buf.type = (uint32_t)type;
  buf.memory = V4L2_MEMORY_DMABUF;
  buf.index = (uint32_t)index;
  if (is_mplane((uint32_t)type)) {
    plane.m.fd = dmabuf;
    plane.length = (uint32_t)length;
    buf.m.planes = &plane;
    buf.length = 1;
  } else {
    buf.m.fd = dmabuf;
    buf.length = (uint32_t)length;
  }
  if (ioctl(fd, VIDIOC_QBUF, &buf) < 0) return udalloc_throw_errno(env, "VIDIOC_QBUF", errno);
  return NULL;
}

/*
 * v4l2QueueDmabufPlanes(fd, type, index, dmabufFds[], lengths[]): QBUF a multi-planar buffer, a
 * dma-buf per plane (V4L2_PIX_FMT_NV12M...), on a *_MPLANE queue.
 */
static napi_value queue_dmabuf_planes(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t fd, type, index;
  uint32_t n = 0, m = 0;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &type) || !udalloc_arg_i32(env, argv[2], &index) ||
      napi_get_array_length(env, argv[3], &n) != napi_ok || napi_get_array_length(env, argv[4], &m) != napi_ok || n != m || n == 0 ||
      n > VIDEO_MAX_PLANES || !is_mplane((uint32_t)type))
    return udalloc_throw_errno(env, "VIDIOC_QBUF", EINVAL);
  struct v4l2_plane planes[VIDEO_MAX_PLANES];
  memset(planes, 0, sizeof planes);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    int32_t dmabuf;
    uint64_t length;
    if (napi_get_element(env, argv[3], i, &v) != napi_ok || !udalloc_arg_i32(env, v, &dmabuf) || napi_get_element(env, argv[4], i, &v) != napi_ok ||
        !udalloc_arg_u64(env, v, &length))
      return udalloc_throw_errno(env, "VIDIOC_QBUF", EINVAL);
    planes[i].m.fd = dmabuf;
    planes[i].length = (uint32_t)length;
  }
  struct v4l2_buffer buf;
  memset(&buf, 0, sizeof buf);
  buf.type = (uint32_t)type;
  buf.memory = V4L2_MEMORY_DMABUF;
  buf.index = (uint32_t)index;
  buf.m.planes = planes;
  buf.length = n;
  if (ioctl(fd, VIDIOC_QBUF, &buf) < 0) return udalloc_throw_errno(env, "VIDIOC_QBUF", errno);
  return NULL;
}

/* v4l2SetControl(fd, id, value): VIDIOC_S_CTRL (a driver's test-pattern options, say). */
static napi_value set_control(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, value;
  uint64_t id;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_u64(env, argv[1], &id) || !udalloc_arg_i32(env, argv[2], &value))
    return udalloc_throw_errno(env, "VIDIOC_S_CTRL", EINVAL);
  struct v4l2_control c = {.id = (uint32_t)id, .value = value};
  if (ioctl(fd, VIDIOC_S_CTRL, &c) < 0) return udalloc_throw_errno(env, "VIDIOC_S_CTRL", errno);
  return NULL;
}

/*
 * v4l2Dequeue(fd, type, timeoutMs) -> { index, bytesused, sequence, flags, planes }: waits with
 * poll(). On a multi-planar queue `planes` holds each plane's bytesused and data_offset.
 */
static napi_value dequeue(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, type, timeout;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &type) || !udalloc_arg_i32(env, argv[2], &timeout))
    return udalloc_throw_errno(env, "VIDIOC_DQBUF", EINVAL);
  struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT};
  int ready = poll(&pfd, 1, timeout);
  if (ready < 0) return udalloc_throw_errno(env, "poll", errno);
  if (ready == 0) return udalloc_throw_errno(env, "VIDIOC_DQBUF (poll)", ETIMEDOUT);
  struct v4l2_buffer buf;
  struct v4l2_plane planes[VIDEO_MAX_PLANES];
  memset(&buf, 0, sizeof buf);
  memset(planes, 0, sizeof planes);
  buf.type = (uint32_t)type;
  buf.memory = V4L2_MEMORY_DMABUF;
  int mplane = is_mplane((uint32_t)type);
  if (mplane) {
    /* vb2 refuses an array shorter than the buffer's planes: give it room for all. */
    buf.m.planes = planes;
    buf.length = VIDEO_MAX_PLANES;
  }
  if (ioctl(fd, VIDIOC_DQBUF, &buf) < 0) return udalloc_throw_errno(env, "VIDIOC_DQBUF", errno);
  napi_value out, list, plane;
  if (napi_create_object(env, &out) != napi_ok || !udalloc_put_number(env, out, "index", buf.index) ||
      !udalloc_put_number(env, out, "bytesused", mplane ? planes[0].bytesused : buf.bytesused) ||
      !udalloc_put_number(env, out, "sequence", buf.sequence) || !udalloc_put_number(env, out, "flags", buf.flags) ||
      napi_create_array(env, &list) != napi_ok)
    return NULL;
  for (uint32_t i = 0; mplane && i < buf.length && i < VIDEO_MAX_PLANES; i++) {
    if (napi_create_object(env, &plane) != napi_ok || !udalloc_put_number(env, plane, "bytesused", planes[i].bytesused) ||
        !udalloc_put_number(env, plane, "dataOffset", planes[i].data_offset) || napi_set_element(env, list, i, plane) != napi_ok)
      return NULL;
  }
  if (napi_set_named_property(env, out, "planes", list) != napi_ok) return NULL;
  return out;
}

/* v4l2Stream(fd, type, on): STREAMON or STREAMOFF. */
static napi_value stream(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, type;
  bool on;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &type) || napi_get_value_bool(env, argv[2], &on) != napi_ok)
    return udalloc_throw_errno(env, "VIDIOC_STREAMON", EINVAL);
  int t = type;
  if (ioctl(fd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &t) < 0) return udalloc_throw_errno(env, on ? "VIDIOC_STREAMON" : "VIDIOC_STREAMOFF", errno);
  return NULL;
}

/* v4l2Constants(): the numbers as compiled, for the JavaScript side. */
static napi_value constants(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok) return NULL;
#define PUT(name) if (!udalloc_put_number(env, out, #name, name)) return NULL;
  PUT(V4L2_CAP_VIDEO_CAPTURE) PUT(V4L2_CAP_VIDEO_OUTPUT) PUT(V4L2_CAP_VIDEO_CAPTURE_MPLANE) PUT(V4L2_CAP_VIDEO_OUTPUT_MPLANE)
  PUT(V4L2_CAP_VIDEO_M2M) PUT(V4L2_CAP_VIDEO_M2M_MPLANE) PUT(V4L2_CAP_STREAMING) PUT(V4L2_CAP_META_CAPTURE)
  PUT(V4L2_BUF_TYPE_VIDEO_CAPTURE) PUT(V4L2_BUF_TYPE_VIDEO_OUTPUT) PUT(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) PUT(V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)
  PUT(V4L2_MEMORY_MMAP) PUT(V4L2_MEMORY_DMABUF) PUT(V4L2_BUF_CAP_SUPPORTS_DMABUF) PUT(V4L2_BUF_CAP_SUPPORTS_MMAP)
  PUT(V4L2_FMT_FLAG_COMPRESSED) PUT(V4L2_FMT_FLAG_EMULATED)
  PUT(VIDIOC_QUERYCAP) PUT(VIDIOC_ENUM_FMT) PUT(VIDIOC_TRY_FMT) PUT(VIDIOC_S_FMT) PUT(VIDIOC_REQBUFS)
#undef PUT
  return out;
}

void udalloc_register_v4l2(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"v4l2QueryCap", NULL, query_cap, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2EnumFmt", NULL, enum_fmt, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2Format", NULL, format, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2ReqBufs", NULL, req_bufs, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2QueueDmabuf", NULL, queue_dmabuf, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2QueueDmabufPlanes", NULL, queue_dmabuf_planes, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2SetControl", NULL, set_control, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2Dequeue", NULL, dequeue, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2Stream", NULL, stream, NULL, NULL, NULL, napi_default, NULL},
      {"v4l2Constants", NULL, constants, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
