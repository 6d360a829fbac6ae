#include "base/duration.hpp"

#include <gtest/gtest.h>

namespace durable {
namespace {

using namespace std::chrono;

TEST(ParseDuration, ReadsEachUnitAndSums) {
  EXPECT_EQ(parse_duration("30d").value(), days(30));
  EXPECT_EQ(parse_duration("12h").value(), hours(12));
  EXPECT_EQ(parse_duration("90s").value(), seconds(90));
  EXPECT_EQ(parse_duration("5m").value(), minutes(5));
  EXPECT_EQ(parse_duration("250ms").value(), milliseconds(250));
  EXPECT_EQ(parse_duration("1h30m").value(), minutes(90));
  EXPECT_EQ(parse_duration("0s").value(), milliseconds(0));
}

TEST(ParseDuration, RefusesWhatIsNotADurationQuotingIt) {
  for (const char* bad : {"", "30", "d", "-5s", "5x", "1.5h", "5 s", "h5", "36601d", "99999999999999999999s"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.status().code(), Errc::invalid_argument);
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos) << r.status().message();
  }
}

TEST(FormatDuration, IsReadBackExactly) {
  for (milliseconds d : {milliseconds(0), milliseconds(1500), milliseconds(days(30)), milliseconds(minutes(90)),
                         milliseconds(hours(25) + seconds(1) + milliseconds(2))}) {
    EXPECT_EQ(parse_duration(format_duration(d)).value(), d) << format_duration(d);
  }
  EXPECT_EQ(format_duration(days(30)), "30d");
  EXPECT_EQ(format_duration(minutes(90)), "1h30m");
}

}  // namespace
}  // namespace durable
