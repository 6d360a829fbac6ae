#pragma once
// One spdlog logger per subsystem ("replay", "store", "cluster", "entity"),
// sharing the default logger's sinks and level, so a program configures
// logging once (spdlog's default logger) and every line names its subsystem.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace durable {

/// The logger for `subsystem`, created on first use. Thread-safe.
std::shared_ptr<spdlog::logger> logger(const std::string& subsystem);

}  // namespace durable
