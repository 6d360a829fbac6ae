#include "base/sha1.hpp"

namespace durable {
namespace {

std::uint32_t rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

}  // namespace

void Sha1::update(std::string_view data) {
  for (char c : data) {
    block_[block_len_++] = static_cast<std::uint8_t>(c);
    if (block_len_ == block_.size()) {
      compress(block_.data());
      block_len_ = 0;
    }
  }
  total_len_ += data.size();
}

Sha1Digest Sha1::finish() {
  const std::uint64_t bit_len = total_len_ * 8;
  // Padding: one 0x80 byte, zeros up to 56 mod 64, then the 64-bit big-endian
  // bit length (FIPS 180-1 section 4).
  block_[block_len_++] = 0x80;
  if (block_len_ > 56) {
    while (block_len_ < 64) block_[block_len_++] = 0;
    compress(block_.data());
    block_len_ = 0;
  }
  while (block_len_ < 56) block_[block_len_++] = 0;
  for (int i = 7; i >= 0; --i) block_[block_len_++] = static_cast<std::uint8_t>(bit_len >> (8 * i));
  compress(block_.data());
  block_len_ = 0;

  Sha1Digest out{};
  for (std::size_t i = 0; i < 5; ++i) {
    for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * j));
  }
  return out;
}

void Sha1::compress(const std::uint8_t* block) {
  std::array<std::uint32_t, 80> w{};
  for (std::size_t t = 0; t < 16; ++t) {
    w[t] = std::uint32_t{block[4 * t]} << 24 | std::uint32_t{block[4 * t + 1]} << 16 |
           std::uint32_t{block[4 * t + 2]} << 8 | std::uint32_t{block[4 * t + 3]};
  }
  for (std::size_t t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

  std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
  for (std::size_t t = 0; t < 80; ++t) {
    std::uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d), k = 0x5A827999u;
    } else if (t < 40) {
      f = b ^ c ^ d, k = 0x6ED9EBA1u;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d, k = 0xCA62C1D6u;
    }
    const std::uint32_t temp = rotl(a, 5) + f + e + k + w[t];
    e = d, d = c, c = rotl(b, 30), b = a, a = temp;
  }
  h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d, h_[4] += e;
}

Sha1Digest sha1(std::string_view data) {
  Sha1 s;
  s.update(data);
  return s.finish();
}

}  // namespace durable
