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

TEST(Utf8, FindsTheFirstByteThatIsNotWellFormed) {
  EXPECT_EQ(invalid_utf8_at(""), std::nullopt);
  EXPECT_EQ(invalid_utf8_at("plain ascii"), std::nullopt);
  EXPECT_EQ(invalid_utf8_at("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"), std::nullopt);  // 2, 3 and 4 bytes
  EXPECT_EQ(invalid_utf8_at("x\xffy"), 1u);
  EXPECT_EQ(invalid_utf8_at("\x80"), 0u);                 // a continuation byte first
  EXPECT_EQ(invalid_utf8_at("a\xc0\xaf"), 1u);            // overlong '/'
  EXPECT_EQ(invalid_utf8_at("\xe0\x80\xaf"), 0u);         // overlong, 3 bytes
  EXPECT_EQ(invalid_utf8_at("ok\xed\xa0\x80"), 2u);       // a surrogate
  EXPECT_EQ(invalid_utf8_at("\xf4\x90\x80\x80"), 0u);     // above U+10FFFF
  EXPECT_EQ(invalid_utf8_at("ab\xe6\x97"), 2u);            // cut short
  EXPECT_EQ(invalid_utf8_at("\xe6\x41\x41"), 0u);         // not a continuation
  EXPECT_EQ(escape_non_ascii("x\xffy\\z\n"), "x\\xffy\\x5cz\\x0a");
}

TEST(Iequals, ComparesAsciiIgnoringCase) {
  EXPECT_TRUE(iequals("HelloSequence", "hellosequence"));
  EXPECT_FALSE(iequals("Hello", "Hell"));
  EXPECT_EQ(ascii_lower("Counter@Key"), "counter@key");
}

TEST(UrlDecode, DecodesEscapesAndPlusOnlyInQueries) {
  EXPECT_EQ(url_decode("a%2Fb+c%zz%4", false), "a/b+c%zz%4");  // malformed escapes stay
  EXPECT_EQ(url_decode("a+b%20c", true), "a b c");
}

TEST(Shortened, CutsLongInputAndSaysHowLongItWas) {
  EXPECT_EQ(shortened("short", 200), "short");
  EXPECT_EQ(shortened(std::string(300, 'x'), 4), "xxxx... (300 bytes)");
}

TEST(EqualInConstantTime, ComparesWholeStrings) {
  EXPECT_TRUE(equal_in_constant_time("s3cret", "s3cret"));
  EXPECT_FALSE(equal_in_constant_time("s3cre", "s3cret"));
  EXPECT_FALSE(equal_in_constant_time("s3cretX", "s3cret"));
  EXPECT_FALSE(equal_in_constant_time("s3creT", "s3cret"));
  EXPECT_FALSE(equal_in_constant_time("", "s3cret"));
}

}  // namespace
}  // namespace durable
