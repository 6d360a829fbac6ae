// SHA-1 (FIPS 180-1 vectors) and the GUIDs built on it.

#include "base/guid.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "base/instance_id.hpp"
#include "base/sha1.hpp"

namespace durable {
namespace {

std::string hex(const Sha1Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0f];
  }
  return out;
}

// SHA-1 lives in its own file but exists only for name_based_guid, so its
// vectors are tested here. Expected digests: FIPS 180-1 appendix A/B/C and
// Python's hashlib for the padding boundaries (55, 56 and 64 bytes).
TEST(GuidSha1, KnownVectors) {
  struct Row {
    const char* name;
    std::string input;
    const char* digest;
  };
  const Row rows[] = {
      {"empty", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"abc", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
      {"two blocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
      {"55 bytes: padding fits one block", std::string(55, 'a'), "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
      {"56 bytes: length spills into a second block", std::string(56, 'a'),
       "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
      {"64 bytes: exactly one block", std::string(64, 'a'), "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
      {"million a", std::string(1000000, 'a'), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(hex(sha1(row.input)), row.digest);
  }
}

TEST(GuidSha1, IncrementalUpdates_MatchOneShot) {
  // The million-'a' vector fed in uneven chunks that straddle block edges.
  Sha1 s;
  std::size_t fed = 0;
  for (std::size_t chunk = 1; fed < 1000000; chunk = chunk % 97 + 13) {
    const std::size_t n = std::min(chunk, 1000000 - fed);
    s.update(std::string(n, 'a'));
    fed += n;
  }
  EXPECT_EQ(hex(s.finish()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(GuidSha1, BinaryInput_HashesEveryByte) {
  EXPECT_NE(sha1(std::string("a\0b", 3)), sha1(std::string("a\0c", 3)));
  EXPECT_NE(sha1(std::string("\0", 1)), sha1(""));
}

// Expected values from Python: str(uuid.uuid5(uuid.NAMESPACE_URL, name)).
TEST(Guid, NameBased_MatchesPythonUuid5InUrlNamespace) {
  struct Row {
    const char* name;
    std::string input;
    const char* guid;
  };
  const Row rows[] = {
      {"abc", "abc", "68661508-f3c4-55b4-945d-ae2b4dfe5db4"},
      {"empty name", "", "1b4db7eb-4057-5ddf-91e0-36dec72071f5"},
      {"url", "http://example.com/x", "7053202b-f41d-5fdd-a6f3-8501fb44c567"},
      {"utf-8 bytes", "h\xc3\xa9llo", "102d6fae-a0b0-5a7a-b980-5e8cfb1690db"},
      {"instance_time_counter", "orch-1_2024-01-02T03:04:05.0000000Z_0", "5f0e9fbb-18c3-5a8e-ab9a-0e6c7a91535d"},
      {"name longer than a block", std::string(1000, 'x'), "68491f23-75a7-557d-943b-00881c13ae1e"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(name_based_guid(row.input), row.guid);
  }
}

TEST(Guid, NameBased_OtherNamespace_MatchesPythonUuid5) {
  // Durable Functions' .NET namespace; Python: uuid5(UUID('9e952958-...'), "abc").
  constexpr GuidBytes kDurableNamespace{0x9e, 0x95, 0x29, 0x58, 0x5e, 0x33, 0x4d, 0xaf,
                                        0x82, 0x7f, 0x2f, 0xa1, 0x29, 0x37, 0xb8, 0x75};
  EXPECT_EQ(name_based_guid(kDurableNamespace, "abc"), "13d2e68b-e487-56ca-9a34-888f4b25e7d4");
  EXPECT_EQ(name_based_guid(kGuidUrlNamespace, "abc"), name_based_guid("abc"));
}

TEST(Guid, NameBased_IsDeterministicAndNameSensitive) {
  EXPECT_EQ(name_based_guid("order-42_0"), name_based_guid("order-42_0"));
  EXPECT_NE(name_based_guid("order-42_0"), name_based_guid("order-42_1"));
}

TEST(Guid, Random_Is32LowerHexWithVersion4AndRfcVariant) {
  for (int i = 0; i < 100; ++i) {
    const std::string g = random_guid();
    ASSERT_EQ(g.size(), 32u) << g;
    EXPECT_EQ(g.find_first_not_of("0123456789abcdef"), std::string::npos) << g;
    EXPECT_EQ(g[12], '4') << g;                                     // version nibble
    EXPECT_NE(std::string("89ab").find(g[16]), std::string::npos) << g;  // variant 10xx
  }
}

TEST(Guid, Random_DoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(random_guid()).second);
}

}  // namespace
}  // namespace durable
