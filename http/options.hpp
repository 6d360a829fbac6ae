#pragma once
// HttpOptions: how a node serves its HTTP API (http/server.hpp).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace durable::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  /// 0: any free port (see HttpServer::port()).
  uint16_t port = 7071;
  /// Where clients reach this server ("http://api.example:7071"): the base
  /// of the links in Location headers and check-status payloads (never the
  /// request's Host header). Empty: http://host:port as served, 127.0.0.1
  /// for a wildcard host.
  std::string public_url;
  /// Empty: no key needed.
  std::string key;
  /// Largest request body, however it arrives (Content-Length or chunked):
  /// past it the server answers 413 and closes the connection.
  size_t max_body_bytes = 16u << 20;
  /// Connections open at once; one more is refused at once (503, closed).
  size_t max_connections = 10000;
  /// A request's headers must arrive within this of its first byte.
  std::chrono::milliseconds header_timeout{10000};
  /// A request's body must arrive within this of its headers.
  std::chrono::milliseconds body_timeout{30000};
  /// A keep-alive connection with no request for this long is closed.
  std::chrono::milliseconds idle_timeout{60000};
  /// Longest wait a start's ?timeout= may ask for.
  std::chrono::seconds max_wait{60};
  /// A purge by filter still running after this is answered 202 with a
  /// Location reporting its progress, and goes on in the background.
  std::chrono::milliseconds purge_answer_within{30000};
  /// Threads that serve requests. A request runs on one while it reads or
  /// writes Redis; waits, slow clients and idle connections hold none.
  size_t threads = 16;
  /// Called with the instance (or entity) id after a request wrote to its
  /// inbox: a node wakes the owner at once, here or over CAF. Without it the
  /// owner finds the write on its partition's wake stream, a little later.
  std::function<void(const std::string& id)> wake;
  /// The node's own health for GET /health (its lease rounds reach Redis);
  /// without it, /health only asks Redis.
  std::function<Status()> health;
  /// Whether a start of an orchestrator not registered in C++ is taken:
  /// true when a Durable Task worker connected to the node serves that
  /// name. Without it, such a start is 400 "unknown orchestrator".
  std::function<bool(const std::string& name)> served_by_workers;
};

/// "host:port" (a bare port means 127.0.0.1) as HttpOptions. Errors:
/// invalid_argument naming what is wrong.
Result<HttpOptions> parse_listen_address(std::string_view text);

}  // namespace durable::http
