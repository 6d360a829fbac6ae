#include "base/guid.hpp"

#include <random>

#include "base/sha1.hpp"

namespace durable {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// 32 hex digits, with a dash before bytes 4, 6, 8 and 10 when `dashes` (8-4-4-4-12).
std::string format_guid(const GuidBytes& g, bool dashes) {
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (dashes && (i == 4 || i == 6 || i == 8 || i == 10)) out += '-';
    out += kHexDigits[g[i] >> 4];
    out += kHexDigits[g[i] & 0x0f];
  }
  return out;
}

// RFC 4122 section 4.1.3 (version in the high nibble of byte 6) and 4.1.1
// (variant 10xx in the high bits of byte 8).
void set_version_and_variant(GuidBytes& g, std::uint8_t version) {
  g[6] = static_cast<std::uint8_t>((g[6] & 0x0f) | (version << 4));
  g[8] = static_cast<std::uint8_t>((g[8] & 0x3f) | 0x80);
}

}  // namespace

std::string name_based_guid(std::string_view name) { return name_based_guid(kGuidUrlNamespace, name); }

std::string name_based_guid(const GuidBytes& name_space, std::string_view name) {
  // RFC 4122 section 4.3: SHA-1 over namespace bytes then name bytes; the
  // first 16 digest bytes become the GUID.
  Sha1 hash;
  hash.update(std::string_view(reinterpret_cast<const char*>(name_space.data()), name_space.size()));
  hash.update(name);
  const Sha1Digest digest = hash.finish();
  GuidBytes g{};
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = digest[i];
  set_version_and_variant(g, 5);
  return format_guid(g, /*dashes=*/true);
}

std::string random_guid() {
  // One device per thread: std::random_device is not safe to share unsynchronised.
  thread_local std::random_device device;
  GuidBytes g{};
  for (std::size_t i = 0; i < g.size(); i += 4) {
    const std::uint32_t word = device();
    for (std::size_t j = 0; j < 4; ++j) g[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
  }
  set_version_and_variant(g, 4);
  return format_guid(g, /*dashes=*/false);
}

}  // namespace durable
