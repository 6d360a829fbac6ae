#include "base/time.hpp"

#include <cstdio>

#include "base/text.hpp"

namespace durable {
namespace {

struct Parts {
  int year, month, day, hour, minute, second, millis;
};

Parts split(TimePointMs t) {
  using namespace std::chrono;
  const auto days = floor<std::chrono::days>(t);
  const year_month_day ymd{days};
  const hh_mm_ss hms{t - days};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(hms.hours().count()),
          static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
          static_cast<int>(hms.subseconds().count())};
}

}  // namespace

std::string format_utc(TimePointMs t) {
  const Parts p = split(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", p.year, p.month, p.day,
                p.hour, p.minute, p.second, p.millis);
  return buf;
}

std::string format_utc_roundtrip(TimePointMs t) {
  const Parts p = split(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d0000Z", p.year, p.month,
                p.day, p.hour, p.minute, p.second, p.millis);
  return buf;
}

Result<TimePointMs> parse_utc(std::string_view text) {
  using namespace std::chrono;
  const auto bad = [&] {
    return Status::invalid_argument("'" + shortened(text, 200) + "' is not a UTC time like 2026-11-23T10:55:07Z");
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, consumed = 0;
  const std::string str(text);
  const int fields = std::sscanf(str.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed);
  if (fields != 3) return bad();
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  int millis = 0;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ') return bad();
    int used = 0;
    const std::string time(rest.substr(1));
    if (std::sscanf(time.c_str(), "%2d:%2d:%2d%n", &h, &mi, &s, &used) != 3) return bad();
    rest = rest.substr(1 + static_cast<size_t>(used));
    if (!rest.empty() && rest[0] == '.') {
      size_t i = 1;
      int scale = 100;
      for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i) {
        millis += (rest[i] - '0') * scale;
        scale /= 10;
      }
      if (i == 1) return bad();
      rest = rest.substr(i);
    }
    if (rest != "" && rest != "Z" && rest != "z" && rest != "+00:00") return bad();
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0) return bad();
  return TimePointMs(sys_days(ymd).time_since_epoch() + hours(h) + minutes(mi) + seconds(s) +
                     milliseconds(millis));
}

}  // namespace durable

