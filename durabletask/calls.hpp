#pragma once
// The parts of TaskHubSidecarService's calls that are not one RPC's logic
// (server.cpp has those): our Status as a gRPC status, and the reactors of
// the calls that stay open (a worker's GetWorkItems stream, the long polls,
// a history stream). Internal to durabletask/.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "client/waits.hpp"
#include "durabletask/orchestrator_service.grpc.pb.h"
#include "durabletask/worker_hub.hpp"

namespace durable::durabletask {

/// `s` as the gRPC status a caller gets (its message kept).
grpc::Status to_grpc(const Status& s);

/// A worker's GetWorkItems stream, connected to `hub` with the request's
/// limits and filters until the worker goes away; items are written one at
/// a time, in order.
grpc::ServerWriteReactor<::WorkItem>* open_work_stream(std::shared_ptr<WorkerHub> hub,
                                                      const ::GetWorkItemsRequest& request, std::string peer);

/// A long poll (WaitForInstanceStart/Completion) on `waits`: answered into
/// `response` when the instance gets `until`, or ended by the caller going
/// away (after a day at the latest).
grpc::ServerUnaryReactor* wait_call(client::Waits& waits, const std::string& instance_id, client::Waits::Until until,
                                    ::GetInstanceResponse* response, bool with_payloads);

/// StreamInstanceHistory: `chunks` written one at a time; the caller going
/// away ends it.
grpc::ServerWriteReactor<::HistoryChunk>* history_stream(std::vector<::HistoryChunk> chunks);

/// A streaming call refused before it began, with `status`.
template <class Message>
grpc::ServerWriteReactor<Message>* refused(const grpc::Status& status) {
  struct Refused : grpc::ServerWriteReactor<Message> {
    explicit Refused(const grpc::Status& s) { this->Finish(s); }
    void OnDone() override { delete this; }
  };
  return new Refused(status);
}

}  // namespace durable::durabletask
