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

void udalloc_register_drm(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"drmDescribe", NULL, describe, NULL, NULL, NULL, napi_default, NULL},
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
