#!/usr/bin/env bash
# Builds (once, then cached) a small x86_64 kernel from Debian's linux-source-6.12 with what the
# real-kernel tests need built in: dma-buf heaps (system and CMA), CMA with debugfs, udmabuf,
# sync_file, devtmpfs and an initramfs; and real drivers to test plans on: DRM with vkms (a virtual
# display with a writeback connector) and V4L2 with vivid (virtual capture, with vb2-dma-contig or
# vmalloc buffers). About 10-20 minutes on 2 cores. Prints the bzImage path. The cache is keyed by
# this script's contents: changing the configuration below rebuilds.
set -euo pipefail
CACHE="${UDALLOC_KERNEL_CACHE:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/udalloc/kernel}"
IMAGE="$CACHE/bzImage"
KEY=$(sha256sum "$0" | cut -d' ' -f1)
if [ -f "$IMAGE" ] && [ "$(cat "$CACHE/key" 2>/dev/null)" = "$KEY" ]; then
  echo "$IMAGE"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
need=()
for pkg in linux-source-6.12 bc flex bison libelf-dev libssl-dev make gcc; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p "$CACHE"
work="$CACHE/src"
rm -rf "$work"
mkdir -p "$work"
tar -xf /usr/src/linux-source-6.12.tar.xz -C "$work"
cd "$work"/linux-source-6.12
make -s x86_64_defconfig
./scripts/config \
  -e DMABUF_HEAPS -e DMABUF_HEAPS_SYSTEM -e DMABUF_HEAPS_CMA \
  -e CMA -e DMA_CMA -e CMA_DEBUGFS -e CMA_SYSFS --set-val CMA_SIZE_MBYTES 64 --set-val CMA_ALIGNMENT 8 \
  -e UDMABUF -e SYNC_FILE -e DMABUF_DEBUG -e DEBUG_FS -e MEMFD_CREATE \
  -e DEVTMPFS -e DEVTMPFS_MOUNT -e BLK_DEV_INITRD -e SERIAL_8250 -e SERIAL_8250_CONSOLE \
  -d SOUND -d USB_SUPPORT -d WLAN -d WIRELESS -d CFG80211 -d NETFILTER -d MD -d HID \
  -d INPUT_MOUSE -d INPUT_JOYSTICK -d INPUT_TABLET -d INPUT_TOUCHSCREEN -d ETHERNET -d AGP \
  -d ACPI_VIDEO -d VGA_CONSOLE -d SECURITY_SELINUX -d AUDIT -d DEBUG_INFO -d KVM_GUEST \
  -e DRM -e DRM_VKMS -d DRM_I915 -d DRM_RADEON -d DRM_AMDGPU -d DRM_NOUVEAU -d DRM_VIRTIO_GPU \
  -d DRM_QXL -d DRM_BOCHS -d DRM_VMWGFX -d DRM_GMA500 -d DRM_AST -d DRM_MGAG200 -d DRM_CIRRUS_QEMU \
  -d DRM_SIMPLEDRM -d DRM_VBOXVIDEO -d DRM_XE -d DRM_FBDEV_EMULATION \
  -e FB -d FB_EFI -d FB_VESA -d FB_VGA16 -d FB_UVESA -d FB_SIMPLE \
  -e MEDIA_SUPPORT -e MEDIA_SUPPORT_FILTER -e MEDIA_CAMERA_SUPPORT -e MEDIA_TEST_SUPPORT \
  -d MEDIA_USB_SUPPORT -d MEDIA_PCI_SUPPORT -d MEDIA_PLATFORM_SUPPORT -d MEDIA_ANALOG_TV_SUPPORT \
  -d MEDIA_DIGITAL_TV_SUPPORT -d MEDIA_RADIO_SUPPORT -d MEDIA_SDR_SUPPORT -d RC_CORE \
  -e VIDEO_DEV -e V4L_TEST_DRIVERS -e VIDEO_VIVID -d VIDEO_VIVID_CEC
make -s olddefconfig
for opt in DMABUF_HEAPS_CMA DMABUF_HEAPS_SYSTEM UDMABUF SYNC_FILE CMA_DEBUGFS DMA_CMA DRM DRM_VKMS VIDEO_DEV VIDEO_VIVID; do
  grep -q "^CONFIG_$opt=y" .config || { echo "build-test-kernel: CONFIG_$opt did not stick" >&2; exit 1; }
done
make -s -j"$(nproc)" bzImage
cp arch/x86/boot/bzImage "$IMAGE.tmp"
cp .config "$CACHE/config"
mv "$IMAGE.tmp" "$IMAGE"
echo "$KEY" > "$CACHE/key"
cd "$CACHE"
rm -rf "$work"
echo "$IMAGE"
