#include "base/duration.hpp"

#include <charconv>
#include <cstdint>

namespace durable {
namespace {

constexpr int64_t kMsPerUnit[] = {86'400'000, 3'600'000, 60'000, 1'000, 1};
constexpr std::string_view kUnits[] = {"d", "h", "m", "s", "ms"};
constexpr int64_t kMaxMs = 100LL * 366 * 86'400'000;

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto bad = [&](const char* why) {
    return Status::invalid_argument("'" + std::string(text) + "' is not a duration (" + why +
                                    "; e.g. 30d, 12h, 90s, 1h30m, 250ms)");
  };
  if (text.empty()) return bad("empty");
  int64_t total = 0;
  for (size_t i = 0; i < text.size();) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || end == text.data() + i || n < 0) return bad("expected a number");
    i = static_cast<size_t>(end - text.data());
    size_t j = i;
    while (j < text.size() && text[j] >= 'a' && text[j] <= 'z') ++j;
    const std::string_view unit = text.substr(i, j - i);
    if (unit.empty()) return bad("a number without a unit");
    size_t u = 0;
    while (u < std::size(kUnits) && kUnits[u] != unit) ++u;
    if (u == std::size(kUnits)) return bad("unknown unit");
    if (n > kMaxMs / kMsPerUnit[u] || total + n * kMsPerUnit[u] > kMaxMs) return bad("more than 100 years");
    total += n * kMsPerUnit[u];
    i = j;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  int64_t left = d.count();
  if (left <= 0) return "0s";
  std::string out;
  for (size_t u = 0; u < std::size(kUnits); ++u) {
    if (left >= kMsPerUnit[u]) {
      out += std::to_string(left / kMsPerUnit[u]);
      out += kUnits[u];
      left %= kMsPerUnit[u];
    }
  }
  return out;
}

}  // namespace durable
