#pragma once
// Durations as operators write them on a command line: "30d", "12h", "90s",
// "1h30m", "250ms". Pure; thread-safe.

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace durable {

/// Parses one or more <digits><unit> groups, units d, h, m, s, ms (largest
/// first is not required; "1h30m" is 90 minutes). Errors: invalid_argument
/// quoting the text (empty, no unit, an unknown unit, a negative or
/// non-number, more than 100 years in total).
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

/// The shortest exact form parse_duration reads back: "30d", "1h30m",
/// "1500ms", "0s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace durable
