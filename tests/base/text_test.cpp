#include "base/text.hpp"

#include <gtest/gtest.h>

namespace durable {
namespace {

TEST(UrlEncode, KeepsUnreservedCharactersAndEncodesEveryOtherByte) {
  EXPECT_EQ(url_encode("Az09-_.~"), "Az09-_.~");
  EXPECT_EQ(url_encode("a b/c?d#e&f=g"), "a%20b%2Fc%3Fd%23e%26f%3Dg");
  EXPECT_EQ(url_encode("\xC3\xA9"), "%C3%A9");  // UTF-8 bytes one by one
  EXPECT_EQ(url_encode(std::string("\0", 1)), "%00");
  EXPECT_EQ(url_encode(""), "");
}

TEST(Iequals, ComparesAsciiIgnoringCase) {
  EXPECT_TRUE(iequals("HelloSequence", "hellosequence"));
  EXPECT_FALSE(iequals("Hello", "Hell"));
  EXPECT_EQ(ascii_lower("Counter@Key"), "counter@key");
}

}  // namespace
}  // namespace durable
