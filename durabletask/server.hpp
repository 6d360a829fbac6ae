#pragma once
// GrpcServer: the Durable Task protocol's TaskHubSidecarService, served from
// a node so that the Durable Task SDKs (.NET, Java, Python, JavaScript, Go)
// run their orchestrations and activities on this cluster as workers and
// drive it as clients.
//
//   durabletask::GrpcOptions o;  o.port = 4001;  o.workers = hub;
//   auto server = GrpcServer::start(o, client_options);
//   ...
//   (*server)->stop();
//
// Built on gRPC's callback API: server streams (GetWorkItems) and long polls
// (WaitForInstance*) hold no thread. The client calls (start, get, raise,
// ...) go through a client::Client of their own; the worker calls go to the
// WorkerHub, whose items the node's actors make through the executors of
// durabletask/executors.hpp.

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.hpp"
#include "client/client.hpp"
#include "durabletask/worker_hub.hpp"

namespace durable::durabletask {

struct GrpcOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4001;  // 0: any free port
  /// When set, every call must carry `authorization: Bearer <key>`
  /// (UNAUTHENTICATED otherwise).
  std::string key;
  /// The task hub served; a call whose `taskhub` metadata names another is
  /// NOT_FOUND.
  std::string hub = "default";
  /// Largest payload (input, output, event data) accepted; a message over
  /// it (plus room for the rest of the message) is RESOURCE_EXHAUSTED.
  size_t max_payload_bytes = 16u << 20;
  /// Where work items go; must outlive nothing (shared).
  std::shared_ptr<WorkerHub> workers;
};

class GrpcServer {
 public:
  /// Connects its client and binds. Errors: unavailable ("cannot serve
  /// the Durable Task protocol on host:port"), as Client::connect.
  static Result<std::unique_ptr<GrpcServer>> start(GrpcOptions options, client::ClientOptions client);
  /// stop().
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  /// The port bound (the one asked for, or the one picked for port 0).
  uint16_t port() const;
  /// Ends every call (streams and long polls are cancelled) and stops
  /// serving. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace durable::durabletask
