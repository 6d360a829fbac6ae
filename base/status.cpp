#include "base/status.hpp"

namespace durable {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::failed_precondition: return "failed_precondition";
    case Errc::lease_lost: return "lease_lost";
    case Errc::unavailable: return "unavailable";
    case Errc::deadline_exceeded: return "deadline_exceeded";
    case Errc::corruption: return "corruption";
    case Errc::nondeterminism: return "nondeterminism";
    case Errc::cancelled: return "cancelled";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string s(errc_name(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace durable
