#include "base/time.hpp"

#include <cstdio>

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

std::optional<TimePointMs> parse_utc(std::string_view text) {
  using namespace std::chrono;
  int y, mo, d, h, mi, s, consumed = 0;
  const std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6)
    return std::nullopt;
  size_t pos = static_cast<size_t>(consumed);
  int millis = 0;
  if (pos < str.size() && str[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < str.size() && str[pos] >= '0' && str[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (str[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (pos + 1 != str.size() || str[pos] != 'Z') return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + milliseconds{millis};
}

}  // namespace durable
