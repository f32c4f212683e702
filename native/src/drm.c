/*
 * DRM/KMS discovery through libdrm, the field's own library: what each plane of a card scans out
 * (its IN_FORMATS blob of format/modifier pairs, or the plain format list when the driver has no
 * IN_FORMATS), the plane type, the CRTCs it can feed, writeback connectors and their formats, and
 * the PRIME and ADDFB2-modifier caps. Read-only: the device is opened by JavaScript without
 * becoming DRM master, and no display state is changed. Client caps (universal planes, atomic,
 * writeback) only change what this file descriptor is shown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include "udalloc_native.h"

#define ARGS(n)                                                                    \
  size_t argc = n;                                                                 \
  napi_value argv[n];                                                              \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) \
    return udalloc_throw_errno(env, "udalloc native: arguments", EINVAL);

static uint64_t prop_value(int fd, uint32_t object, uint32_t type, const char *name, bool *found) {
  *found = false;
  drmModeObjectPropertiesPtr props = drmModeObjectGetProperties(fd, object, type);
  if (!props) return 0;
  uint64_t value = 0;
  for (uint32_t i = 0; i < props->count_props && !*found; i++) {
    drmModePropertyPtr p = drmModeGetProperty(fd, props->props[i]);
    if (!p) continue;
    if (strcmp(p->name, name) == 0) {
      value = props->prop_values[i];
      *found = true;
    }
    drmModeFreeProperty(p);
  }
  drmModeFreeObjectProperties(props);
  return value;
}

static bool push_number(napi_env env, napi_value array, uint32_t index, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok && napi_set_element(env, array, index, v) == napi_ok;
}

/* A modifier as a "0x..." string: 64-bit values do not fit a JavaScript number. */
static bool push_pair(napi_env env, napi_value array, uint32_t index, uint32_t format, uint64_t modifier) {
  char hex[24];
  snprintf(hex, sizeof hex, "0x%016llx", (unsigned long long)modifier);
  napi_value pair, f, m;
  return napi_create_array_with_length(env, 2, &pair) == napi_ok && napi_create_double(env, format, &f) == napi_ok &&
         napi_create_string_utf8(env, hex, NAPI_AUTO_LENGTH, &m) == napi_ok && napi_set_element(env, pair, 0, f) == napi_ok &&
         napi_set_element(env, pair, 1, m) == napi_ok && napi_set_element(env, array, index, pair) == napi_ok;
}

/*
 * drmDescribe(fd) -> { driver, prime, addfb2Modifiers, planes: [{ id, type, possibleCrtcs,
 * formats: [fourcc], pairs: [[fourcc, "0x<modifier>"]] | null }], writeback: [{ id, formats }] }
 */
static napi_value describe(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!udalloc_arg_i32(env, argv[0], &fd)) return udalloc_throw_errno(env, "drmDescribe", EINVAL);
  // Opening a card as root where no compositor runs makes us DRM master: give it back at once, so
  // that discovery can never hold the display.
  if (drmIsMaster(fd)) drmDropMaster(fd);
  drmVersionPtr version = drmGetVersion(fd);
  if (!version) return udalloc_throw_errno(env, "DRM_IOCTL_VERSION", errno ? errno : ENODEV);
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok || !udalloc_put_string(env, out, "driver", version->name, (size_t)version->name_len)) {
    drmFreeVersion(version);
    return NULL;
  }
  drmFreeVersion(version);
  uint64_t prime = 0, addfb2 = 0;
  if (drmGetCap(fd, DRM_CAP_PRIME, &prime) != 0) prime = 0;
  if (drmGetCap(fd, DRM_CAP_ADDFB2_MODIFIERS, &addfb2) != 0) addfb2 = 0;
  if (!udalloc_put_number(env, out, "prime", (double)prime) || !udalloc_put_number(env, out, "addfb2Modifiers", (double)addfb2)) return NULL;
  // Every plane (not only overlays), and writeback connectors (atomic first, as the uAPI asks).
  drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1);
  bool atomic = drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0;
  bool writeback = atomic && drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1) == 0;

  napi_value planes;
  if (napi_create_array(env, &planes) != napi_ok) return NULL;
  drmModePlaneResPtr res = drmModeGetPlaneResources(fd);
  if (!res) return udalloc_throw_errno(env, "DRM_IOCTL_MODE_GETPLANERESOURCES", errno ? errno : ENODEV);
  for (uint32_t i = 0; i < res->count_planes; i++) {
    drmModePlanePtr plane = drmModeGetPlane(fd, res->planes[i]);
    if (!plane) continue;
    napi_value p, formats, pairs;
    bool ok = napi_create_object(env, &p) == napi_ok && napi_create_array(env, &formats) == napi_ok;
    bool found;
    uint64_t type = prop_value(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE, "type", &found);
    ok = ok && udalloc_put_number(env, p, "id", plane->plane_id) && udalloc_put_number(env, p, "type", found ? (double)type : -1) &&
         udalloc_put_number(env, p, "possibleCrtcs", plane->possible_crtcs);
    for (uint32_t f = 0; ok && f < plane->count_formats; f++) ok = push_number(env, formats, f, plane->formats[f]);
    ok = ok && napi_set_named_property(env, p, "formats", formats) == napi_ok;
    uint64_t blob_id = prop_value(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE, "IN_FORMATS", &found);
    drmModePropertyBlobPtr blob = found && blob_id ? drmModeGetPropertyBlob(fd, (uint32_t)blob_id) : NULL;
    if (ok && blob) {
      ok = napi_create_array(env, &pairs) == napi_ok;
      drmModeFormatModifierIterator iter = {0};
      uint32_t n = 0;
      while (ok && drmModeFormatModifierBlobIterNext(blob, &iter)) ok = push_pair(env, pairs, n++, iter.fmt, iter.mod);
    } else if (ok) {
      ok = napi_get_null(env, &pairs) == napi_ok;
    }
    if (blob) drmModeFreePropertyBlob(blob);
    ok = ok && napi_set_named_property(env, p, "pairs", pairs) == napi_ok && napi_set_element(env, planes, i, p) == napi_ok;
    drmModeFreePlane(plane);
    if (!ok) {
      drmModeFreePlaneResources(res);
      return NULL;
    }
  }
  drmModeFreePlaneResources(res);
  if (napi_set_named_property(env, out, "planes", planes) != napi_ok) return NULL;

  napi_value wbs;
  if (napi_create_array(env, &wbs) != napi_ok) return NULL;
  drmModeResPtr cards = writeback ? drmModeGetResources(fd) : NULL;
  uint32_t count = 0;
  for (int c = 0; cards && c < cards->count_connectors; c++) {
    drmModeConnectorPtr conn = drmModeGetConnector(fd, cards->connectors[c]);
    if (!conn) continue;
    if (conn->connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
      napi_value w, formats;
      bool found;
      uint64_t blob_id = prop_value(fd, conn->connector_id, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_PIXEL_FORMATS", &found);
      drmModePropertyBlobPtr blob = found && blob_id ? drmModeGetPropertyBlob(fd, (uint32_t)blob_id) : NULL;
      bool ok = napi_create_object(env, &w) == napi_ok && napi_create_array(env, &formats) == napi_ok &&
                udalloc_put_number(env, w, "id", conn->connector_id);
      for (uint32_t f = 0; ok && blob && f < blob->length / 4; f++) ok = push_number(env, formats, f, ((const uint32_t *)blob->data)[f]);
      if (blob) drmModeFreePropertyBlob(blob);
      ok = ok && napi_set_named_property(env, w, "formats", formats) == napi_ok && napi_set_element(env, wbs, count++, w) == napi_ok;
      if (!ok) {
        drmModeFreeConnector(conn);
        drmModeFreeResources(cards);
        return NULL;
      }
    }
    drmModeFreeConnector(conn);
  }
  if (cards) drmModeFreeResources(cards);
  if (napi_set_named_property(env, out, "writeback", wbs) != napi_ok) return NULL;
  if (!udalloc_put_number(env, out, "atomic", atomic ? 1 : 0)) return NULL;
  return out;
}


/* ---- Importing a dma-buf as a framebuffer, and scanning it out through writeback ------------ */

static bool arg_u32_array(napi_env env, napi_value v, uint32_t out[4]) {
  uint32_t n = 0;
  if (napi_get_array_length(env, v, &n) != napi_ok || n > 4) return false;
  for (uint32_t i = 0; i < 4; i++) out[i] = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    int32_t x;
    if (napi_get_element(env, v, i, &e) != napi_ok || !udalloc_arg_i32(env, e, &x) || x < 0) return false;
    out[i] = (uint32_t)x;
  }
  return true;
}

/*
 * drmImport(fd, dmabufFd, width, height, fourcc, pitches[], offsets[], modifierHex | null)
 *   -> { fbId, handle }: PRIME_FD_TO_HANDLE, then ADDFB2 (with the modifier when one is given).
 * The driver checks the buffer here: a layout or memory it cannot scan out is refused (EINVAL...).
 */
static napi_value import_fb(napi_env env, napi_callback_info info) {
  ARGS(8);
  int32_t fd, dmabuf, width, height;
  uint64_t fourcc;
  uint32_t pitches[4], offsets[4], handles[4] = {0};
  uint64_t modifiers[4] = {0};
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &dmabuf) || !udalloc_arg_i32(env, argv[2], &width) ||
      !udalloc_arg_i32(env, argv[3], &height) || !udalloc_arg_u64(env, argv[4], &fourcc) || !arg_u32_array(env, argv[5], pitches) ||
      !arg_u32_array(env, argv[6], offsets))
    return udalloc_throw_errno(env, "drmImport", EINVAL);
  napi_valuetype t;
  bool with_modifier = napi_typeof(env, argv[7], &t) == napi_ok && t == napi_string;
  if (with_modifier) {
    char hex[32] = {0};
    size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[7], hex, sizeof hex, &len) != napi_ok) return udalloc_throw_errno(env, "drmImport", EINVAL);
    uint64_t m = strtoull(hex, NULL, 16);
    for (int i = 0; i < 4; i++) modifiers[i] = pitches[i] ? m : 0;
  }
  uint32_t handle = 0;
  if (drmPrimeFDToHandle(fd, dmabuf, &handle) != 0) return udalloc_throw_errno(env, "DRM_IOCTL_PRIME_FD_TO_HANDLE", errno);
  for (int i = 0; i < 4; i++) handles[i] = pitches[i] ? handle : 0;
  uint32_t fb = 0;
  if (drmModeAddFB2WithModifiers(fd, (uint32_t)width, (uint32_t)height, (uint32_t)fourcc, handles, pitches, offsets, with_modifier ? modifiers : NULL, &fb,
                                 with_modifier ? DRM_MODE_FB_MODIFIERS : 0) != 0) {
    int e = errno;
    drmCloseBufferHandle(fd, handle);
    return udalloc_throw_errno(env, "DRM_IOCTL_MODE_ADDFB2", e);
  }
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok || !udalloc_put_number(env, out, "fbId", fb) || !udalloc_put_number(env, out, "handle", handle)) return NULL;
  return out;
}

/* drmRelease(fd, fbId, handle): RMFB and GEM_CLOSE, so nothing is left behind. */
static napi_value release_fb(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, fb, handle;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &fb) || !udalloc_arg_i32(env, argv[2], &handle))
    return udalloc_throw_errno(env, "drmRelease", EINVAL);
  int e = 0;
  if (fb && drmModeRmFB(fd, (uint32_t)fb) != 0) e = errno;
  if (handle && drmCloseBufferHandle(fd, (uint32_t)handle) != 0 && !e) e = errno;
  if (e) return udalloc_throw_errno(env, "DRM_IOCTL_MODE_RMFB", e);
  return NULL;
}

static uint32_t prop_id(int fd, uint32_t object, uint32_t type, const char *name) {
  drmModeObjectPropertiesPtr props = drmModeObjectGetProperties(fd, object, type);
  uint32_t id = 0;
  for (uint32_t i = 0; props && i < props->count_props && !id; i++) {
    drmModePropertyPtr p = drmModeGetProperty(fd, props->props[i]);
    if (p && strcmp(p->name, name) == 0) id = p->prop_id;
    if (p) drmModeFreeProperty(p);
  }
  if (props) drmModeFreeObjectProperties(props);
  return id;
}

/*
 * drmWriteback(fd, planeId, fbId, writebackFbId, width, height, timeoutMs): one atomic commit that
 * shows fbId full screen on the plane, on the first CRTC with a width x height mode, with the
 * writeback connector writing the composed frame into writebackFbId; waits for its out-fence,
 * then turns the CRTC off again. Takes DRM master for the commit and gives it back.
 */
static napi_value writeback(napi_env env, napi_callback_info info) {
  ARGS(7);
  int32_t fd, plane, fb, wbfb, width, height, timeout;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &plane) || !udalloc_arg_i32(env, argv[2], &fb) ||
      !udalloc_arg_i32(env, argv[3], &wbfb) || !udalloc_arg_i32(env, argv[4], &width) || !udalloc_arg_i32(env, argv[5], &height) ||
      !udalloc_arg_i32(env, argv[6], &timeout))
    return udalloc_throw_errno(env, "drmWriteback", EINVAL);
  if (drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) != 0 || drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1) != 0)
    return udalloc_throw_errno(env, "DRM_CLIENT_CAP_WRITEBACK_CONNECTORS", errno);
  if (!drmIsMaster(fd) && drmSetMaster(fd) != 0) return udalloc_throw_errno(env, "DRM_IOCTL_SET_MASTER", errno);
  drmModeResPtr res = drmModeGetResources(fd);
  if (!res || res->count_crtcs < 1) {
    if (res) drmModeFreeResources(res);
    drmDropMaster(fd);
    return udalloc_throw_errno(env, "DRM_IOCTL_MODE_GETRESOURCES", ENODEV);
  }
  uint32_t crtc = res->crtcs[0], wb = 0;
  drmModeModeInfo mode;
  bool have_mode = false;
  for (int c = 0; c < res->count_connectors; c++) {
    drmModeConnectorPtr conn = drmModeGetConnector(fd, res->connectors[c]);
    if (!conn) continue;
    if (conn->connector_type == DRM_MODE_CONNECTOR_WRITEBACK && !wb) wb = conn->connector_id;
    for (int m = 0; m < conn->count_modes && !have_mode; m++) {
      if (conn->modes[m].hdisplay == width && conn->modes[m].vdisplay == height) {
        mode = conn->modes[m];
        have_mode = true;
      }
    }
    drmModeFreeConnector(conn);
  }
  drmModeFreeResources(res);
  if (!wb || !have_mode) {
    drmDropMaster(fd);
    return udalloc_throw_errno(env, wb ? "drmWriteback: no connector has a mode of that size" : "drmWriteback: no writeback connector", ENODEV);
  }
  uint32_t blob = 0;
  if (drmModeCreatePropertyBlob(fd, &mode, sizeof mode, &blob) != 0) {
    int e = errno;
    drmDropMaster(fd);
    return udalloc_throw_errno(env, "DRM_IOCTL_MODE_CREATEPROPBLOB", e);
  }
  int32_t fence = -1;
  drmModeAtomicReqPtr req = drmModeAtomicAlloc();
  uint32_t w = (uint32_t)width, h = (uint32_t)height;
  drmModeAtomicAddProperty(req, crtc, prop_id(fd, crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID"), blob);
  drmModeAtomicAddProperty(req, crtc, prop_id(fd, crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE"), 1);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "FB_ID"), (uint64_t)fb);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID"), crtc);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "SRC_X"), 0);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "SRC_Y"), 0);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "SRC_W"), (uint64_t)w << 16);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "SRC_H"), (uint64_t)h << 16);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "CRTC_X"), 0);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "CRTC_Y"), 0);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "CRTC_W"), w);
  drmModeAtomicAddProperty(req, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "CRTC_H"), h);
  drmModeAtomicAddProperty(req, wb, prop_id(fd, wb, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID"), crtc);
  drmModeAtomicAddProperty(req, wb, prop_id(fd, wb, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_FB_ID"), (uint64_t)wbfb);
  drmModeAtomicAddProperty(req, wb, prop_id(fd, wb, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_OUT_FENCE_PTR"), (uint64_t)(uintptr_t)&fence);
  int rc = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
  int e = errno;
  drmModeAtomicFree(req);
  if (rc == 0 && fence >= 0) {
    struct pollfd pfd = {.fd = fence, .events = POLLIN};
    int ready = poll(&pfd, 1, timeout);
    if (ready <= 0) {
      rc = -1;
      e = ready == 0 ? ETIMEDOUT : errno;
    }
    close(fence);
  } else if (rc == 0) {
    rc = -1;
    e = EIO;
  }
  // Off again, whatever happened: plane detached, connector and CRTC released.
  drmModeAtomicReqPtr off = drmModeAtomicAlloc();
  drmModeAtomicAddProperty(off, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "FB_ID"), 0);
  drmModeAtomicAddProperty(off, (uint32_t)plane, prop_id(fd, (uint32_t)plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID"), 0);
  drmModeAtomicAddProperty(off, wb, prop_id(fd, wb, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID"), 0);
  drmModeAtomicAddProperty(off, crtc, prop_id(fd, crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE"), 0);
  drmModeAtomicAddProperty(off, crtc, prop_id(fd, crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID"), 0);
  drmModeAtomicCommit(fd, off, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
  drmModeAtomicFree(off);
  drmModeDestroyPropertyBlob(fd, blob);
  drmDropMaster(fd);
  if (rc != 0) return udalloc_throw_errno(env, "DRM_IOCTL_MODE_ATOMIC (writeback)", e);
  return NULL;
}

/*
 * drmDumbPitch(fd, width, height, bpp) -> the pitch the driver picks for a dumb buffer of that size
 * (DRM_IOCTL_MODE_CREATE_DUMB, destroyed at once): a hint of the pitch alignment it likes.
 */
static napi_value dumb_pitch(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, width, height, bpp;
  if (!udalloc_arg_i32(env, argv[0], &fd) || !udalloc_arg_i32(env, argv[1], &width) || !udalloc_arg_i32(env, argv[2], &height) ||
      !udalloc_arg_i32(env, argv[3], &bpp))
    return udalloc_throw_errno(env, "DRM_IOCTL_MODE_CREATE_DUMB", EINVAL);
  struct drm_mode_create_dumb create = {.width = (uint32_t)width, .height = (uint32_t)height, .bpp = (uint32_t)bpp};
  if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create) != 0) return udalloc_throw_errno(env, "DRM_IOCTL_MODE_CREATE_DUMB", errno);
  struct drm_mode_destroy_dumb destroy = {.handle = create.handle};
  drmIoctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);
  return udalloc_make_i32(env, (int32_t)create.pitch);
}

void udalloc_register_drm(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"drmDescribe", NULL, describe, NULL, NULL, NULL, napi_default, NULL},
      {"drmImport", NULL, import_fb, NULL, NULL, NULL, napi_default, NULL},
      {"drmRelease", NULL, release_fb, NULL, NULL, NULL, napi_default, NULL},
      {"drmWriteback", NULL, writeback, NULL, NULL, NULL, napi_default, NULL},
      {"drmDumbPitch", NULL, dumb_pitch, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

#ifdef UDALLOC_DRM_MODULE
static napi_value init(napi_env env, napi_value exports) {
  udalloc_register_drm(env, exports);
  return exports;
}
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
#endif
