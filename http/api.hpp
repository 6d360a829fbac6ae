#pragma once
// Api: Durable Functions' built-in HTTP API over a Client, as routes from a
// Request to a Response, with no transport in it (HttpServer serves it).
// Routes, under /runtime/webhooks/durabletask:
//
//   POST   /orchestrators/{name}[/{instanceId}][?timeout=S]  start (202, or 200 when done in time)
//   GET    /instances/{id}[?showHistory&showHistoryOutput&showInput]
//   GET    /instances[?runtimeStatus&createdTimeFrom&createdTimeTo&instanceIdPrefix&top&newestFirst]
//          (paging: x-ms-continuation-token request and response header; ordered by created time, or
//          by id with instanceIdPrefix; a page can be short, even empty, and still have a token)
//   GET    /instanceCounts[?createdTimeFrom&createdTimeTo]   {"Pending": n, "Running": n, ...}: every
//          status, finished instances until purged (the store's listing index, no row read)
//   POST   /instances/{id}/raiseEvent/{event}   body: the event's JSON
//   POST   /instances/{id}/terminate|suspend|resume[?reason=][&recursive=true (terminate)]
//   POST   /instances/{id}/rewind[?reason=]      a Failed instance (410 for any other status)
//   POST   /instances/{id}/restart[?restartWithNewInstanceId=true]   202 + check-status links (409 unfinished)
//   DELETE /instances/{id}[?recursive=true]      purge one (and its sub-orchestrations)
//   DELETE /instances?createdTimeFrom=...[&recursive=true]   purge by filter, in batches:
//          200 + count when done within 30 s, else 202 + Location of GET /purges/{job}
//   GET    /purges/{job}                         a purge's progress (202 running, 200 done)
//   POST   /entities/{name}/{key}?op=OP[&requestId&scheduledTime]   signal, body: the input
//   GET    /entities/{name}/{key}                the state (404 without one)
//   GET    /entities[/{namePrefix}][?fetchState&includeDeleted&top]  (paging as /instances)
//   DELETE /entities/{name}/{key}                delete the state (a message, in order)
//   POST   /cleanEntityStorage                   remove empty entities, release orphaned locks
//   GET    /cluster                              the nodes (live, or gone but still remembered: up to
//          100 node timeouts after their last heartbeat), each with its addresses, heartbeat age, code,
//          partitions and "rates" (per interval, oldest first: episodes, activities, entityOperations per
//          second, commitLatencyMs; null for a node from before rates); "owners" (each partition's owner
//          or null) and the unowned ones
//   GET    /health
//   GET    /metrics                              Prometheus text
//
// Every client mistake is a 4xx with {"error": "..."} naming it (quoting at
// most 200 bytes of what the client sent); nothing a client sends is a 500.
// With a key set, every route wants it as ?code= or "Authorization: Bearer <key>".

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/client.hpp"
#include "entities/batch.hpp"
#include "http/metrics.hpp"
#include "http/options.hpp"
#include "http/request.hpp"
#include "orchestration/registry.hpp"

namespace durable::client {
class Waits;
}

namespace durable::http {

class PurgeJobs;

class Api {
 public:
  /// `base_url` is where clients reach the server (links start with it);
  /// `metrics` reads the node's counters for GET /metrics (none: 404).
  /// `hands_off_starts`: the client gives each start to the node, which
  /// then needs no wake-up. The destructor waits for the purges still
  /// running (each stops at its next batch).
  Api(const HttpOptions& options, std::string base_url, const orchestration::Registry& registry,
      const entities::EntityRegistry& entities, client::Client& client, uint32_t partitions,
      std::function<Metrics()> metrics, client::Waits& waits, bool hands_off_starts);
  ~Api();

  /// Answers `request` through `respond`, at once or (a start that waits)
  /// later from another thread. Blocks for its Redis round trips.
  void handle(Request request, Respond respond) const;
  /// The error body every failure has: {"error": message}.
  static Response error(int status, const std::string& message);

 private:
  using Handler = std::function<void(Request&, Respond&)>;
  struct Route {
    std::string method;
    std::vector<std::string> pattern;  // literal segments, "*" (one), "**" (the rest)
    Handler handler;
  };
  void on(std::string method, std::string pattern, std::function<void(const Request&, Response&)> handler);
  void on_later(std::string method, std::string pattern, Handler handler);
  void instance_routes();
  void lifecycle_routes();  // http/lifecycle_routes.cpp
  void dead_letter_routes();  // http/dead_letter_routes.cpp
  void entity_routes();
  void node_routes();
  void start(Request& req, Respond& respond) const;
  void wake_owner(const std::string& id) const {
    if (options_.wake) options_.wake(id);
  }

  const HttpOptions& options_;
  const std::string base_url_;  // ends with the API's base path
  const orchestration::Registry& registry_;
  const entities::EntityRegistry& entities_;
  client::Client& client_;
  const uint32_t partitions_;
  const std::function<Metrics()> metrics_;
  client::Waits& waits_;
  const bool hands_off_starts_;
  std::vector<Route> routes_;
  // Last: its threads use client_ and end before the rest goes.
  std::unique_ptr<PurgeJobs> purges_;
};

}  // namespace durable::http
