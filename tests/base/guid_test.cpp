// SHA-1 (FIPS 180-1 vectors) and the GUIDs built on it.

#include "base/guid.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

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

// 8 threads in each of 2 processes, the second forked after the first had
// drawn random bytes (a child must not repeat what its parent buffered).
std::vector<std::string> guids_from_threads(int threads, int each) {
  std::vector<std::vector<std::string>> per(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      per[t].reserve(each);
      for (int i = 0; i < each; ++i) per[t].push_back(random_guid());
    });
  }
  for (auto& w : workers) w.join();
  std::vector<std::string> all;
  for (auto& v : per) all.insert(all.end(), v.begin(), v.end());
  return all;
}

TEST(Guid, Random_AMillionFrom8ThreadsIn2Processes_NoDuplicate) {
  constexpr int kThreads = 8;
  constexpr int kEach = 62'500;  // x 8 threads x 2 processes = 1,000,000
  std::unordered_set<std::string> seen;
  seen.reserve(2 * kThreads * kEach + 1);
  seen.insert(random_guid());  // the parent's buffer is full when it forks
  char path[] = "/tmp/durable-guids-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::ofstream out(path, std::ios::binary);
    for (const std::string& g : guids_from_threads(kThreads, kEach)) out << g << '\n';
    out.close();
    ::_exit(out ? 0 : 1);
  }
  const auto mine = guids_from_threads(kThreads, kEach);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream in(path);
  std::vector<std::string> theirs;
  for (std::string line; std::getline(in, line);) theirs.push_back(line);
  std::remove(path);
  ASSERT_EQ(theirs.size(), size_t{kThreads * kEach});
  size_t duplicates = 0;
  const std::vector<std::string>* lists[] = {&mine, &theirs};
  for (const std::vector<std::string>* list : lists) {
    for (const std::string& g : *list) duplicates += seen.insert(g).second ? 0 : 1;
  }
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(seen.size(), size_t{2 * kThreads * kEach + 1});
}

}  // namespace
}  // namespace durable
