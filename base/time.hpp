#pragma once
// UTC time points as text. The engine never reads a clock; these only format
// the timestamps history carries.

#include <chrono>
#include <string>

namespace durable {

using TimePointMs = std::chrono::sys_time<std::chrono::milliseconds>;

/// "2026-11-23T10:55:07.123Z".
std::string format_utc(TimePointMs t);
/// .NET's round-trip ("o") form, "2026-11-23T10:55:07.1230000Z": what Durable
/// Functions feeds into its deterministic NewGuid.
std::string format_utc_roundtrip(TimePointMs t);

}  // namespace durable
