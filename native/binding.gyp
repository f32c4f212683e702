{
  "targets": [
    {
      "target_name": "udalloc_native",
      "sources": ["src/udalloc_native.c", "src/v4l2.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
