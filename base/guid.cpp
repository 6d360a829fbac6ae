#include "base/guid.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

#include "base/sha1.hpp"

namespace durable {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Random bytes for version-4 GUIDs: OpenSSL's CSPRNG (a per-thread DRBG,
// seeded from getrandom and reseeded on its own), read 1 KiB at a time into
// a per-thread buffer so one GUID costs a copy, not a call. A forked child
// drops what its parent had buffered (it would repeat the parent's GUIDs).
std::atomic<uint64_t> fork_generation{0};

struct RandomBuffer {
  static constexpr std::size_t kSize = 1024;
  std::uint8_t bytes[kSize];
  std::size_t used = kSize;
  uint64_t generation = 0;

  void take(std::uint8_t* out, std::size_t n) {
    const uint64_t now = fork_generation.load(std::memory_order_relaxed);
    if (generation != now) {
      used = kSize;
      generation = now;
    }
    if (kSize - used < n) {
      if (RAND_bytes(bytes, static_cast<int>(kSize)) != 1) {
        throw std::runtime_error("RAND_bytes failed: " + std::to_string(ERR_get_error()));
      }
      used = 0;
    }
    std::memcpy(out, bytes + used, n);
    std::memset(bytes + used, 0, n);  // a byte given out is not kept
    used += n;
  }
};

RandomBuffer& random_buffer() {
  static const bool registered = [] {
    return pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); }) == 0;
  }();
  (void)registered;
  thread_local RandomBuffer buffer;
  return buffer;
}

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
  GuidBytes g{};
  random_buffer().take(g.data(), g.size());
  set_version_and_variant(g, 4);
  return format_guid(g, /*dashes=*/false);
}

}  // namespace durable
