#include "base/time.hpp"

#include <gtest/gtest.h>

namespace durable {
namespace {

using namespace std::chrono;

TEST(ParseUtc, ReadsWhatFormatUtcWritesAndCommonVariants) {
  const TimePointMs t = sys_days(2026y / November / 23) + 10h + 55min + 7s + 123ms;
  EXPECT_EQ(parse_utc(format_utc(t)).value(), t);
  EXPECT_EQ(parse_utc("2026-11-23T10:55:07.123Z").value(), t);
  EXPECT_EQ(parse_utc("2026-11-23T10:55:07.1234567Z").value(), t);  // .NET's 7 digits
  EXPECT_EQ(parse_utc("2026-11-23T10:55:07.123+00:00").value(), t);
  EXPECT_EQ(parse_utc("2026-11-23T10:55:07.123").value(), t);
  EXPECT_EQ(parse_utc("2026-11-23").value(), TimePointMs(sys_days(2026y / November / 23)));
}

TEST(ParseUtc, RefusesWhatIsNotAUtcTimeQuotingIt) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-23T25:00:00Z", "2026-11-23T10:55",
                          "2026-11-23T10:55:07+02:00", "2026-11-23T10:55:07.Z", "2026-11-23X"}) {
    auto r = parse_utc(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.status().code(), Errc::invalid_argument);
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace durable
