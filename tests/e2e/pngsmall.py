"""Small screenshots for the docs: a 256-colour palette PNG instead of Chromium's true colour.

Chromium decodes the screenshot and picks the palette (the mean colour of the
256 most used 15-bit colour bins, every pixel mapped to the nearest entry);
Python writes the indexed PNG with zlib. A page of flat UI colours and
anti-aliased text loses nothing visible and shrinks about threefold. No
image library is needed: the browser under test is the image library.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

_QUANTIZE = """
async (b64) => {
  const img = new Image();
  img.src = "data:image/png;base64," + b64;
  await img.decode();
  const w = img.width, h = img.height, n = w * h;
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, w, h).data;
  const count = new Uint32Array(32768), sr = new Float64Array(32768),
        sg = new Float64Array(32768), sb = new Float64Array(32768);
  const bin = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const r = d[4 * i], g = d[4 * i + 1], b = d[4 * i + 2];
    const k = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    bin[i] = k; count[k]++; sr[k] += r; sg[k] += g; sb[k] += b;
  }
  const used = [];
  for (let k = 0; k < 32768; k++) if (count[k]) used.push(k);
  used.sort((a, b) => count[b] - count[a]);
  const top = used.slice(0, 256);
  const pal = top.map((k) => [sr[k] / count[k], sg[k] / count[k], sb[k] / count[k]]);
  const map = new Int16Array(32768).fill(-1);
  top.forEach((k, i) => { map[k] = i; });
  const nearest = (k) => {
    const r = sr[k] / count[k], g = sg[k] / count[k], b = sb[k] / count[k];
    let best = 0, dist = Infinity;
    for (let i = 0; i < pal.length; i++) {
      const e = (pal[i][0] - r) ** 2 + (pal[i][1] - g) ** 2 + (pal[i][2] - b) ** 2;
      if (e < dist) { dist = e; best = i; }
    }
    return best;
  };
  const idx = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let m = map[bin[i]];
    if (m < 0) { m = nearest(bin[i]); map[bin[i]] = m; }
    idx[i] = m;
  }
  const palette = new Uint8Array(pal.length * 3);
  pal.forEach((c, i) => { palette.set(c.map(Math.round), 3 * i); });
  const b64of = (bytes) => {
    let s = "";
    for (let i = 0; i < bytes.length; i += 32768) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
    }
    return btoa(s);
  };
  return {w, h, palette: b64of(palette), idx: b64of(idx)};
}
"""


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def indexed_png(width: int, height: int, palette: bytes, indices: bytes) -> bytes:
    """A palette PNG (colour type 3, 8 bits) from RGB palette bytes and one index per pixel."""
    rows = b"".join(b"\x00" + indices[y * width : (y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", palette)
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )


def shrink(browser: Any, png: bytes) -> bytes:
    """``png`` as a 256-colour palette PNG (decoded and quantized in ``browser``)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        out = page.evaluate(_QUANTIZE, base64.b64encode(png).decode())
    finally:
        context.close()
    return indexed_png(
        out["w"], out["h"], base64.b64decode(out["palette"]), base64.b64decode(out["idx"])
    )
