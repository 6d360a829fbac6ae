#pragma once
// UTC time points as text. The engine never reads a clock; these only format
// the timestamps history carries.

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace durable {

using TimePointMs = std::chrono::sys_time<std::chrono::milliseconds>;

/// "2026-11-23T10:55:07.123Z".
std::string format_utc(TimePointMs t);
/// .NET's round-trip ("o") form, "2026-11-23T10:55:07.1230000Z": what Durable
/// Functions feeds into its deterministic NewGuid.
std::string format_utc_roundtrip(TimePointMs t);
/// Parses "2026-11-23T10:55:07Z", with optional fractional seconds (to ms)
/// and "Z", "+00:00" or no zone (read as UTC); a date alone is midnight.
/// Errors: invalid_argument quoting the text.
Result<TimePointMs> parse_utc(std::string_view text);

}  // namespace durable
