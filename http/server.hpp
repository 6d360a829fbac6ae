#pragma once
// HttpServer: Durable Functions' built-in HTTP API, served by a node
// (cpp-httplib on its own threads). Routes, under
// /runtime/webhooks/durabletask:
//
//   POST   /orchestrators/{name}[/{instanceId}][?timeout=S]  start (202, or 200 when done in time)
//   GET    /instances/{id}[?showHistory&showHistoryOutput&showInput]
//   GET    /instances[?runtimeStatus&createdTimeFrom&createdTimeTo&instanceIdPrefix&top]
//          (paging: x-ms-continuation-token request and response header)
//   POST   /instances/{id}/raiseEvent/{event}   body: the event's JSON
//   POST   /instances/{id}/terminate|suspend|resume[?reason=]
//   DELETE /instances/{id}                       purge one
//   DELETE /instances?createdTimeFrom=...        purge by filter
//   POST   /entities/{name}/{key}?op=OP[&requestId&scheduledTime]   signal, body: the input
//   GET    /entities/{name}/{key}                the state (404 without one)
//   GET    /entities[/{namePrefix}][?fetchState&includeDeleted&top]  (paging as /instances)
//   DELETE /entities/{name}/{key}                delete the state (a message, in order)
//   POST   /cleanEntityStorage                   remove empty entities, release orphaned locks
//   GET    /cluster                              the nodes, their partitions, the unowned ones
//   GET    /health
//   GET    /metrics                              Prometheus text
//
// Every client mistake is a 4xx with {"error": "..."} naming it; nothing a
// client sends is a 500. With a key set, every route wants it as ?code= or
// "Authorization: Bearer <key>".

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/status.hpp"
#include "client/client.hpp"
#include "entities/batch.hpp"
#include "http/metrics.hpp"
#include "orchestration/registry.hpp"

namespace httplib {
class Server;
}

namespace durable::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  /// 0: any free port (see HttpServer::port()).
  uint16_t port = 7071;
  /// Empty: no key needed.
  std::string key;
  /// Largest request body.
  size_t max_body_bytes = 16u << 20;
  /// Longest wait a start's ?timeout= may ask for.
  std::chrono::seconds max_wait{60};
  /// Request threads: waits hold one each, so there are many.
  size_t threads = 64;
  /// Called with the instance (or entity) id after a request wrote to its
  /// inbox: a node wakes the owner at once, here or over CAF. Without it the
  /// owner finds the write on its partition's wake stream, a little later.
  std::function<void(const std::string& id)> wake;
  /// The node's own health for GET /health (its lease rounds reach Redis);
  /// without it, /health only asks Redis.
  std::function<Status()> health;
};

/// "host:port" (a bare port means 127.0.0.1) as HttpOptions. Errors:
/// invalid_argument naming what is wrong.
Result<HttpOptions> parse_listen_address(std::string_view text);

class HttpServer {
 public:
  /// Binds and starts serving. Errors: unavailable when the address cannot
  /// be bound (the message names it).
  /// `metrics` reads the node's counters for GET /metrics (none: 404).
  /// The registries are the node's: a start or a signal naming what they do
  /// not hold is refused.
  static Result<std::unique_ptr<HttpServer>> start(HttpOptions options, const orchestration::Registry& registry,
                                                   const entities::EntityRegistry& entities,
                                                   client::ClientOptions client,
                                                   std::function<Metrics()> metrics = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  /// Stops accepting, finishes what is being served.
  void stop();

 private:
  HttpServer(HttpOptions options, const orchestration::Registry& registry, const entities::EntityRegistry& entities,
             std::unique_ptr<client::Client> client, uint32_t partitions, std::function<Metrics()> metrics);
  void routes();
  void entity_routes();
  void cluster_routes();
  void woke(const std::string& id) const {
    if (options_.wake) options_.wake(id);
  }

  const HttpOptions options_;
  const orchestration::Registry& registry_;
  const entities::EntityRegistry& entities_;
  std::unique_ptr<client::Client> client_;
  const uint32_t partitions_;  // the hub's
  const std::function<Metrics()> metrics_;
  std::unique_ptr<httplib::Server> server_;
  uint16_t port_ = 0;
  std::atomic<size_t> waits_{0};  // starts waiting for their instance
  bool hands_off_starts_ = false;  // the client gives each start to the node (ClientOptions::hand_off)
  std::thread thread_;
};

}  // namespace durable::http
