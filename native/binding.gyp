{
  "targets": [
    {
      "target_name": "udalloc_native",
      "sources": ["src/udalloc_native.c", "src/v4l2.c", "src/helpers.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "udalloc_drm",
      "conditions": [
        ["'<!(test -f /usr/include/xf86drm.h && echo yes || echo no)'=='yes'", {
          "sources": ["src/drm.c", "src/helpers.c"],
          "include_dirs": ["/usr/include/libdrm"],
          "libraries": ["-ldrm"],
          "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"],
          "defines": ["NAPI_VERSION=8", "UDALLOC_DRM_MODULE"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
