#include "base/log.hpp"

namespace durable {

std::shared_ptr<spdlog::logger> logger(const std::string& subsystem) {
  if (auto existing = spdlog::get(subsystem)) return existing;
  auto fallback = spdlog::default_logger();
  auto created = std::make_shared<spdlog::logger>(subsystem, fallback->sinks().begin(),
                                                  fallback->sinks().end());
  created->set_level(fallback->level());
  try {
    spdlog::register_logger(created);
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get(subsystem);  // another thread registered it first
  }
  return created;
}

}  // namespace durable
