// The width a device works on is padded to a multiple of this many pixels, and every plane's pitch
// holds that padded width: a V4L2 driver's frame size step. The Hantro/VeriSilicon decoders
// (drivers/media/platform/verisilicon/hantro_v4l2.c, hantro_try_fmt()) round the width up to
// frmsize.step_width (MB_DIM, 16: imx8m_vpu_hw.c, rockchip_vpu_hw.c) with
// v4l2_apply_frmsize_constraints() (v4l2-core/v4l2-common.c) and derive bytesperline from the
// rounded width (v4l2_fill_pixfmt_mp()): a 1918-pixel-wide NV12 frame takes 1920-byte rows. It is
// not a pitch alignment: with 3-byte pixels a 16-pixel step is 48 bytes, which a display's 64-byte
// pitch alignment does not make a multiple of, and the pitch need only hold the padded width.

import { alignmentRule } from './alignments.js';

export const widthAlign = alignmentRule(
  'widthAlign',
  (r) => r.widthAlign,
  (v) => `width x${v}`,
  (f) => `${f.device} pads ${f.format} widths to a multiple of ${String(f.value)} pixels and needs every row to hold the padded width ${f.where}`,
);
