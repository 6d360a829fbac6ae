// Instance id rules: each row names the rule it probes; failures are matched
// by code plus a key phrase, never the whole message.

#include "base/instance_id.hpp"

#include <string>

#include <gtest/gtest.h>

namespace durable {
namespace {

struct Row {
  const char* name;
  std::string id;
  Errc code;
  const char* phrase;  // must appear in the message; "" for OK rows
};

std::string with_byte(const char* prefix, char c, const char* suffix) {
  return std::string(prefix) + c + suffix;
}

const Row kRows[] = {
    // Valid ids.
    {"one character", "a", Errc::ok, ""},
    {"guid form", "0123456789abcdef0123456789abcdef", Errc::ok, ""},
    {"punctuation allowed", "order-42_x.y:z@w (1)+=~!$%^&*", Errc::ok, ""},
    {"utf-8 allowed", "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac", Errc::ok, ""},
    {"at sign not first", "a@b", Errc::ok, ""},
    {"exactly 256", std::string(256, 'x'), Errc::ok, ""},
    // Length.
    {"empty", "", Errc::invalid_argument, "is empty"},
    {"257 characters", std::string(257, 'x'), Errc::invalid_argument, "(257 bytes) is too long; at most 256 characters"},
    // Entity prefix.
    {"leading at sign", "@counter@k1", Errc::invalid_argument, "starts with '@', which is reserved for entity"},
    // Forbidden characters, with the position.
    {"slash", "a/b", Errc::invalid_argument, "instance id \"a/b\" contains '/' at position 1"},
    {"backslash", "ab\\", Errc::invalid_argument, "contains '\\\\' at position 2"},
    {"hash", "#a", Errc::invalid_argument, "contains '#' at position 0"},
    {"question mark", "a?b", Errc::invalid_argument, "contains '?' at position 1"},
    {"rule list", "a/b", Errc::invalid_argument, "'#' and '?' are not allowed"},
    // Control characters, shown escaped.
    {"unit separator", "a\x1f", Errc::invalid_argument, "contains control character '\\x1f' at position 1"},
    {"nul byte", with_byte("ab", '\0', "c"), Errc::invalid_argument, "'\\x00' at position 2"},
    {"newline quoted escaped", "a\nb", Errc::invalid_argument, "instance id \"a\\x0ab\""},
    {"delete", "x\x7f", Errc::invalid_argument, "'\\x7f' at position 1"},
    // Not UTF-8, shown escaped.
    {"invalid byte", "x\xffy", Errc::invalid_argument, "instance id \"x\\xffy\" is not valid UTF-8 at byte 1"},
    {"truncated sequence", "ab\xe6\x97", Errc::invalid_argument, "is not valid UTF-8 at byte 2"},
    // The first broken rule wins, and long ids are shortened in the message.
    {"slash beyond the quoted prefix", std::string(100, 'x') + "/", Errc::invalid_argument,
     "\"... (101 bytes) contains '/' at position 100"},
};

TEST(InstanceId, Validate_Table) {
  for (const Row& row : kRows) {
    SCOPED_TRACE(row.name);
    const Status s = validate_instance_id(row.id);
    EXPECT_EQ(s.code(), row.code) << s.to_string();
    EXPECT_NE(s.message().find(row.phrase), std::string::npos)
        << "message: " << s.message() << "\nexpected phrase: " << row.phrase;
  }
}

TEST(InstanceId, LongIdMessage_StaysShort) {
  const Status s = validate_instance_id(std::string(10000, 'x'));
  EXPECT_EQ(s.code(), Errc::invalid_argument);
  EXPECT_LT(s.message().size(), 200u) << s.message();
}

TEST(InstanceId, NewInstanceId_IsValidAndUnique) {
  const std::string a = new_instance_id();
  const std::string b = new_instance_id();
  EXPECT_TRUE(validate_instance_id(a).is_ok()) << a;
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace durable
