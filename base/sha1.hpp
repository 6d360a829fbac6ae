#pragma once
// SHA-1 (FIPS 180-1), used only to derive name-based GUIDs (RFC 4122 v5).
// Not for security: SHA-1 is broken for collision resistance. Pure C++, no
// dependencies, deterministic on every platform (big-endian output).

#include <array>
#include <cstdint>
#include <string_view>

namespace durable {

using Sha1Digest = std::array<std::uint8_t, 20>;

/// Incremental SHA-1. Feed bytes with update(), then call finish() once.
/// Not thread-safe per object; distinct objects are independent.
class Sha1 {
 public:
  /// Appends `data` (any bytes, NUL included) to the message.
  /// REQUIRES: finish() has not been called.
  void update(std::string_view data);
  /// Pads the message and returns the 20-byte digest. Call it once.
  Sha1Digest finish();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 5> h_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  std::array<std::uint8_t, 64> block_{};
  std::size_t block_len_ = 0;   // bytes buffered in block_
  std::uint64_t total_len_ = 0;  // message length in bytes
};

/// The SHA-1 digest of `data`. Pure; safe to call from any thread.
Sha1Digest sha1(std::string_view data);

}  // namespace durable
