// MurmurHash3 x64 128, first 64 bits, unsigned: what Python's
// mmh3.hash64(text, signed=False)[0] gives, so the server counts a user once
// whichever language reported them (UniqueUsers keeps these hashes).
const M = (1n << 64n) - 1n;
const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;
const encoder = new TextEncoder();

const rotl = (x, r) => ((x << BigInt(r)) | (x >> BigInt(64 - r))) & M;

function fmix(k) {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & M;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & M;
  k ^= k >> 33n;
  return k;
}

/** The first 64 bits of MurmurHash3 x64_128 of the UTF-8 text (seed 0), as a BigInt. */
export function hash64(text, seed = 0) {
  const data = encoder.encode(text);
  const len = data.length;
  const blocks = Math.floor(len / 16);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let h1 = BigInt(seed);
  let h2 = BigInt(seed);
  for (let i = 0; i < blocks; i++) {
    let k1 = view.getBigUint64(i * 16, true);
    let k2 = view.getBigUint64(i * 16 + 8, true);
    k1 = (k1 * C1) & M; k1 = rotl(k1, 31); k1 = (k1 * C2) & M; h1 ^= k1;
    h1 = rotl(h1, 27); h1 = (h1 + h2) & M; h1 = (h1 * 5n + 0x52dce729n) & M;
    k2 = (k2 * C2) & M; k2 = rotl(k2, 33); k2 = (k2 * C1) & M; h2 ^= k2;
    h2 = rotl(h2, 31); h2 = (h2 + h1) & M; h2 = (h2 * 5n + 0x38495ab5n) & M;
  }
  const tail = blocks * 16;
  const rest = len & 15;
  let k1 = 0n;
  let k2 = 0n;
  for (let i = rest - 1; i >= 8; i--) k2 ^= BigInt(data[tail + i]) << BigInt((i - 8) * 8);
  if (rest > 8) { k2 = (k2 * C2) & M; k2 = rotl(k2, 33); k2 = (k2 * C1) & M; h2 ^= k2; }
  for (let i = Math.min(rest, 8) - 1; i >= 0; i--) k1 ^= BigInt(data[tail + i]) << BigInt(i * 8);
  if (rest > 0) { k1 = (k1 * C1) & M; k1 = rotl(k1, 31); k1 = (k1 * C2) & M; h1 ^= k1; }
  h1 ^= BigInt(len);
  h2 ^= BigInt(len);
  h1 = (h1 + h2) & M;
  h2 = (h2 + h1) & M;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) & M;
  return h1;
}

/** ``hash64`` as 16 hex digits, the form UniqueUsers.to_dict() ships. */
export const hash64Hex = (text) => hash64(text).toString(16).padStart(16, '0');
