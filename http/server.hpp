#pragma once
// HttpServer: Durable Functions' built-in HTTP API (http/api.hpp), served
// by a node over HTTP/1.1: an event-driven server (Boost.Beast on Asio,
// http/connection.hpp) whose threads only run requests, so slow clients,
// idle connections and long polls hold none. It serves the dashboard's
// pages too (http/dashboard.hpp: /dashboard/, '/' redirects there).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.hpp"
#include "client/client.hpp"
#include "entities/batch.hpp"
#include "http/metrics.hpp"
#include "http/options.hpp"
#include "orchestration/registry.hpp"

namespace durable::http {

class HttpServer {
 public:
  /// Binds (listen backlog at the system's maximum) and starts serving.
  /// Errors: unavailable when the address cannot be bound (the message
  /// names it); invalid_argument for a public_url that is not http(s)://.
  /// `metrics` reads the node's counters for GET /metrics (none: 404).
  /// The registries are the node's: a start or a signal naming what they do
  /// not hold is refused.
  static Result<std::unique_ptr<HttpServer>> start(HttpOptions options, const orchestration::Registry& registry,
                                                   const entities::EntityRegistry& entities,
                                                   client::ClientOptions client,
                                                   std::function<Metrics()> metrics = {});
  /// stop()s.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  /// The base of the links it gives: HttpOptions::public_url or its default.
  const std::string& public_url() const;
  /// Stops accepting, answers every outstanding wait at once (202 with the
  /// check-status links), finishes the requests being handled, and closes
  /// every connection; returns within about 3 s whatever the clients do.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace durable::http
