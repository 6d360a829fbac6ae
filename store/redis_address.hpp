#pragma once
// RedisAddress: where a Redis server is. No Redis client in here, so that
// code which only names a server (options, the C++ client's header) needs
// no hiredis.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace durable::store {

/// Where a Redis server is, parsed from "redis://[:password@]host[:port]".
struct RedisAddress {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  /// Empty: no AUTH is sent.
  std::string password;

  /// Parses "redis://[:password@]host[:port]" (port defaults to 6379; an
  /// optional trailing "/" is accepted). No I/O. Errors: invalid_argument
  /// naming what is wrong (scheme, empty host, bad or out-of-range port,
  /// user name before ':' which Redis 6 ACL users would need, trailing path).
  static Result<RedisAddress> parse(std::string_view url);

  /// "host:port", for messages (never contains the password).
  std::string to_string() const;
};

}  // namespace durable::store
