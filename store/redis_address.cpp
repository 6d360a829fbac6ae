#include "store/redis_address.hpp"

#include <charconv>

namespace durable::store {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr uint16_t kDefaultPort = 6379;

}  // namespace

Result<RedisAddress> RedisAddress::parse(std::string_view url) {
  const std::string quoted = "redis URL \"" + std::string(url) + "\": ";
  if (!url.starts_with(kScheme)) {
    return Status::invalid_argument(quoted + "scheme must be redis:// (rediss:// and unix sockets are not supported)");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisAddress out;
  out.port = kDefaultPort;
  out.host.clear();

  // Userinfo: only ":password" (the password may itself contain '@', so split
  // at the last one).
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (userinfo.empty() || userinfo.front() != ':') {
      return Status::invalid_argument(quoted + "user names are not supported; write redis://:password@host:port");
    }
    out.password = std::string(userinfo.substr(1));
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return Status::invalid_argument(quoted + "a path or database number is not supported");
  }

  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (rest.starts_with('[')) {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Status::invalid_argument(quoted + "missing ']' after IPv6 host");
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::invalid_argument(quoted + "expected ':' after ']'");
      port = after.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return Status::invalid_argument(quoted + "empty host");
  if (host.find(':') != std::string_view::npos && !rest.starts_with('[')) {
    return Status::invalid_argument(quoted + "bad host (write IPv6 addresses as [addr])");
  }
  out.host = std::string(host);
  if (has_port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size()) {
      return Status::invalid_argument(quoted + "port \"" + std::string(port) + "\" is not a number");
    }
    if (value == 0 || value > 65535) {
      return Status::invalid_argument(quoted + "port " + std::string(port) + " is out of range 1-65535");
    }
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

std::string RedisAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace durable::store
