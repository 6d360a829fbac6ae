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

}  // namespace durable
