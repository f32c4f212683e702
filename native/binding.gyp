{
  "targets": [
    {
      "target_name": "udalloc_native",
      "sources": ["src/udalloc_native.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
