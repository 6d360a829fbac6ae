#include "durabletask/server.hpp"

#include <grpcpp/grpcpp.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "base/text.hpp"
#include "client/patient_connect.hpp"
#include "client/waits.hpp"
#include "durabletask/calls.hpp"
#include "durabletask/convert.hpp"
#include "durabletask/orchestrator_service.grpc.pb.h"

namespace durable::durabletask {
namespace {

using google::protobuf::Empty;
using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;
using grpc::StatusCode;

// Room for the rest of a message around its largest payload.
constexpr size_t kMessageSlack = 1u << 20;

std::optional<orch::OrchestrationStatus> our_status(::OrchestrationStatus s) {
  switch (s) {
    case ORCHESTRATION_STATUS_PENDING: return orch::OrchestrationStatus::pending;
    case ORCHESTRATION_STATUS_RUNNING: return orch::OrchestrationStatus::running;
    case ORCHESTRATION_STATUS_COMPLETED: return orch::OrchestrationStatus::completed;
    case ORCHESTRATION_STATUS_CONTINUED_AS_NEW: return orch::OrchestrationStatus::continued_as_new;
    case ORCHESTRATION_STATUS_FAILED: return orch::OrchestrationStatus::failed;
    case ORCHESTRATION_STATUS_TERMINATED: return orch::OrchestrationStatus::terminated;
    case ORCHESTRATION_STATUS_SUSPENDED: return orch::OrchestrationStatus::suspended;
    default: return std::nullopt;  // CANCELED: never ours
  }
}

// The entity an instance id names ("@name@key"); INVALID_ARGUMENT naming
// the id otherwise.
grpc::Status entity_id_from(const std::string& text, orch::EntityId& out) {
  auto parsed = orch::EntityId::parse(text);
  if (!parsed) {
    return {StatusCode::INVALID_ARGUMENT, "'" + excerpt(text) + "' is not an entity id (@name@key): " +
                                              parsed.status().message()};
  }
  out = std::move(*parsed);
  return grpc::Status::OK;
}

// What the protocol shows of an entity.
void entity_to(const client::EntityState& e, bool with_state, ::EntityMetadata* out) {
  out->set_instanceid(e.id.instance_id());
  *out->mutable_lastmodifiedtime() = timestamp(e.updated);
  // What waits: for the lock to be released, and for its time.
  out->set_backlogqueuesize(static_cast<int32_t>(e.queued + e.scheduled));
  if (e.locked_by) out->mutable_lockedby()->set_value(*e.locked_by);
  if (with_state && e.state) out->mutable_serializedstate()->set_value(payload_text(*e.state));
}

// The statuses a request filters by. INVALID_ARGUMENT for one we never have.
grpc::Status statuses_from(const google::protobuf::RepeatedField<int>& in,
                           std::vector<orch::OrchestrationStatus>& out) {
  for (int s : in) {
    auto ours = our_status(static_cast<::OrchestrationStatus>(s));
    if (!ours) return {StatusCode::INVALID_ARGUMENT, "runtimeStatus " + std::to_string(s) + " is not a status this server has"};
    out.push_back(*ours);
  }
  return grpc::Status::OK;
}

// History events per HistoryChunk: small enough for any receive limit
// (an event's payloads are at most the payload limit each).
constexpr size_t kEventsPerChunk = 200;
constexpr size_t kBytesPerChunk = 1u << 20;

}  // namespace

// ------------------------------------------------------------------ service

class Service final : public ::TaskHubSidecarService::CallbackService {
 public:
  Service(const GrpcOptions& options, client::Client& client, client::Waits& waits)
      : options_(options), client_(client), waits_(waits) {}

  ServerUnaryReactor* Hello(CallbackServerContext* ctx, const Empty*, Empty*) override {
    return unary(ctx, [] { return grpc::Status::OK; });
  }

  ServerUnaryReactor* StartInstance(CallbackServerContext* ctx, const ::CreateInstanceRequest* req,
                                    ::CreateInstanceResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      if (req->name().empty()) return {StatusCode::INVALID_ARGUMENT, "the orchestrator name is empty"};
      orch::Payload input;
      if (auto s = payload(req->input(), req->has_input(), "input", input); !s.ok()) return s;
      client::Client::StartOptions options;
      options.instance_id = req->instanceid();
      options.version = req->version().value();
      // The JavaScript client always sends one (now, when not asked for later).
      if (req->has_scheduledstarttimestamp()) options.start_at = time_point(req->scheduledstarttimestamp());
      if (req->has_orchestrationidreusepolicy() && req->orchestrationidreusepolicy().replaceablestatus_size() > 0) {
        // The protocol's policy names the statuses a start may replace
        // (a running one terminated first); any other is ALREADY_EXISTS.
        client::Client::IdReusePolicy policy;
        policy.action = client::Client::IdReusePolicy::Action::terminate;
        if (auto s = statuses_from(req->orchestrationidreusepolicy().replaceablestatus(), policy.statuses); !s.ok()) {
          return s;
        }
        options.reuse = std::move(policy);
      }
      auto id = client_.start(req->name(), std::move(input), options);
      if (!id) return to_grpc(id.status());
      resp->set_instanceid(*id);
      return grpc::Status::OK;
    });
  }

  ServerUnaryReactor* GetInstance(CallbackServerContext* ctx, const ::GetInstanceRequest* req,
                                  ::GetInstanceResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      auto got = client_.get(req->instanceid());
      if (!got) {
        if (got.status().code() == Errc::not_found) {
          resp->set_exists(false);
          return grpc::Status::OK;
        }
        return to_grpc(got.status());
      }
      resp->set_exists(true);
      state_to(got->row, req->getinputsandoutputs(), resp->mutable_orchestrationstate());
      return grpc::Status::OK;
    });
  }

  ServerUnaryReactor* WaitForInstanceStart(CallbackServerContext* ctx, const ::GetInstanceRequest* req,
                                           ::GetInstanceResponse* resp) override {
    return wait(ctx, req, resp, client::Waits::Until::started);
  }

  ServerUnaryReactor* WaitForInstanceCompletion(CallbackServerContext* ctx, const ::GetInstanceRequest* req,
                                                ::GetInstanceResponse* resp) override {
    return wait(ctx, req, resp, client::Waits::Until::finished);
  }

  ServerUnaryReactor* RaiseEvent(CallbackServerContext* ctx, const ::RaiseEventRequest* req,
                                 ::RaiseEventResponse*) override {
    return unary(ctx, [&]() -> grpc::Status {
      orch::Payload input;
      if (auto s = payload(req->input(), req->has_input(), "input", input); !s.ok()) return s;
      return to_grpc(client_.raise_event(req->instanceid(), req->name(), std::move(input)));
    });
  }

  ServerUnaryReactor* TerminateInstance(CallbackServerContext* ctx, const ::TerminateRequest* req,
                                        ::TerminateResponse*) override {
    return unary(ctx, [&]() -> grpc::Status {
      orch::Payload output;
      if (auto s = payload(req->output(), req->has_output(), "output", output); !s.ok()) return s;
      return to_grpc(client_.terminate(req->instanceid(), std::move(output), req->recursive()));
    });
  }

  ServerUnaryReactor* SuspendInstance(CallbackServerContext* ctx, const ::SuspendRequest* req,
                                      ::SuspendResponse*) override {
    return unary(ctx, [&]() -> grpc::Status {
      orch::Payload reason;
      if (auto s = payload(req->reason(), req->has_reason(), "reason", reason); !s.ok()) return s;
      return to_grpc(client_.suspend(req->instanceid(), std::move(reason)));
    });
  }

  ServerUnaryReactor* ResumeInstance(CallbackServerContext* ctx, const ::ResumeRequest* req,
                                     ::ResumeResponse*) override {
    return unary(ctx, [&]() -> grpc::Status {
      orch::Payload reason;
      if (auto s = payload(req->reason(), req->has_reason(), "reason", reason); !s.ok()) return s;
      return to_grpc(client_.resume(req->instanceid(), std::move(reason)));
    });
  }

  ServerUnaryReactor* QueryInstances(CallbackServerContext* ctx, const ::QueryInstancesRequest* req,
                                     ::QueryInstancesResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      const ::InstanceQuery& q = req->query();
      store::InstanceFilter filter;
      if (auto s = statuses_from(q.runtimestatus(), filter.statuses); !s.ok()) return s;
      if (q.has_createdtimefrom()) filter.created_from = time_point(q.createdtimefrom());
      if (q.has_createdtimeto()) filter.created_to = time_point(q.createdtimeto());
      filter.id_prefix = q.instanceidprefix().value();
      const size_t page_size = q.maxinstancecount() > 0 ? static_cast<size_t>(q.maxinstancecount()) : 100;
      auto page = client_.list(filter, page_size, q.continuationtoken().value());
      if (!page) return to_grpc(page.status());
      for (const auto& row : page->instances) state_to(row, q.fetchinputsandoutputs(), resp->add_orchestrationstate());
      if (!page->continuation.empty()) resp->mutable_continuationtoken()->set_value(page->continuation);
      return grpc::Status::OK;
    });
  }

  ServerUnaryReactor* PurgeInstances(CallbackServerContext* ctx, const ::PurgeInstancesRequest* req,
                                     ::PurgeInstancesResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      int32_t deleted = 0;
      auto purge_one = [&](const std::string& id) -> grpc::Status {
        if (req->recursive()) {  // the whole tree counts
          auto tree = client_.purge_tree(id);
          if (!tree) return tree.status().code() == Errc::not_found ? grpc::Status::OK : to_grpc(tree.status());
          deleted += static_cast<int32_t>(*tree);
          return grpc::Status::OK;
        }
        Status s = client_.purge(id);
        if (s.code() == Errc::not_found) return grpc::Status::OK;
        if (!s) return to_grpc(s);
        ++deleted;
        return grpc::Status::OK;
      };
      switch (req->request_case()) {
        case ::PurgeInstancesRequest::kInstanceId:
          if (auto s = purge_one(req->instanceid()); !s.ok()) return s;
          break;
        case ::PurgeInstancesRequest::kInstanceBatch:
          for (const auto& id : req->instancebatch().instanceids()) {
            if (auto s = purge_one(id); !s.ok()) return s;
          }
          break;
        case ::PurgeInstancesRequest::kPurgeInstanceFilter: {
          const auto& f = req->purgeinstancefilter();
          store::InstanceFilter filter;
          if (auto s = statuses_from(f.runtimestatus(), filter.statuses); !s.ok()) return s;
          if (f.has_createdtimefrom()) filter.created_from = time_point(f.createdtimefrom());
          if (f.has_createdtimeto()) filter.created_to = time_point(f.createdtimeto());
          auto count = client_.purge(filter, req->recursive());
          if (!count) return to_grpc(count.status());
          deleted = static_cast<int32_t>(*count);
          break;
        }
        default:
          return {StatusCode::INVALID_ARGUMENT, "PurgeInstances needs an instanceId, an instanceBatch or a purgeInstanceFilter"};
      }
      resp->set_deletedinstancecount(deleted);
      resp->mutable_iscomplete()->set_value(true);
      return grpc::Status::OK;
    });
  }

  ServerUnaryReactor* ListInstanceIds(CallbackServerContext* ctx, const ::ListInstanceIdsRequest* req,
                                      ::ListInstanceIdsResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      store::InstanceFilter filter;
      if (auto s = statuses_from(req->runtimestatus(), filter.statuses); !s.ok()) return s;
      const size_t page_size = req->pagesize() > 0 ? static_cast<size_t>(req->pagesize()) : 100;
      // The key is the continuation of our listing (by created time, then
      // id): opaque to the caller, as the protocol has it.
      auto page = client_.list(filter, page_size, req->lastinstancekey().value());
      if (!page) return to_grpc(page.status());
      const bool by_completion = req->has_completedtimefrom() || req->has_completedtimeto();
      for (const auto& row : page->instances) {
        if (by_completion) {
          // Completed: a final status, at its last update.
          if (!orch::is_terminal(row.status)) continue;
          if (req->has_completedtimefrom() && row.updated < time_point(req->completedtimefrom())) continue;
          if (req->has_completedtimeto() && row.updated > time_point(req->completedtimeto())) continue;
        }
        resp->add_instanceids(row.id);
      }
      if (!page->continuation.empty()) resp->mutable_lastinstancekey()->set_value(page->continuation);
      return grpc::Status::OK;
    });
  }

  grpc::ServerWriteReactor<::HistoryChunk>* StreamInstanceHistory(CallbackServerContext* ctx,
                                                                   const ::StreamInstanceHistoryRequest* req) override {
    if (grpc::Status s = authorize(ctx); !s.ok()) return refused<::HistoryChunk>(s);
    auto got = client_.get(req->instanceid(), /*with_history=*/true);
    if (!got) return refused<::HistoryChunk>(to_grpc(got.status()));
    if (req->has_executionid() && !req->executionid().value().empty() &&
        protocol_execution_id(req->executionid().value()) != protocol_execution_id(got->row.execution_id)) {
      return refused<::HistoryChunk>(
          {StatusCode::NOT_FOUND, "instance '" + excerpt(req->instanceid()) + "' has no execution '" +
                                      excerpt(req->executionid().value()) + "' (its history is of execution '" +
                                      protocol_execution_id(got->row.execution_id) + "')"});
    }
    std::vector<::HistoryChunk> chunks;
    size_t bytes = 0;
    for (const auto& e : got->history) {
      if (chunks.empty() || static_cast<size_t>(chunks.back().events_size()) == kEventsPerChunk ||
          bytes >= kBytesPerChunk) {
        chunks.emplace_back();
        bytes = 0;
      }
      ::HistoryEvent* out = chunks.back().add_events();
      event_to(e, out);
      bytes += out->ByteSizeLong();
    }
    return history_stream(std::move(chunks));
  }

  // ---------------------------------------------------------------- entities

  ServerUnaryReactor* SignalEntity(CallbackServerContext* ctx, const ::SignalEntityRequest* req,
                                   ::SignalEntityResponse*) override {
    return unary(ctx, [&]() -> grpc::Status {
      orch::EntityId entity;
      if (auto s = entity_id_from(req->instanceid(), entity); !s.ok()) return s;
      orch::Payload input;
      if (auto s = payload(req->input(), req->has_input(), "input", input); !s.ok()) return s;
      std::optional<orch::TimePoint> at;
      if (req->has_scheduledtime()) at = time_point(req->scheduledtime());
      auto id = client_.signal_entity(entity, req->name(), std::move(input), req->requestid(), at);
      return id ? grpc::Status::OK : to_grpc(id.status());
    });
  }

  ServerUnaryReactor* GetEntity(CallbackServerContext* ctx, const ::GetEntityRequest* req,
                                ::GetEntityResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      orch::EntityId entity;
      if (auto s = entity_id_from(req->instanceid(), entity); !s.ok()) return s;
      auto got = client_.get_entity(entity);
      if (!got) {
        if (got.status().code() != Errc::not_found) return to_grpc(got.status());
        resp->set_exists(false);
        return grpc::Status::OK;
      }
      resp->set_exists(true);
      entity_to(*got, req->includestate(), resp->mutable_entity());
      return grpc::Status::OK;
    });
  }

  ServerUnaryReactor* QueryEntities(CallbackServerContext* ctx, const ::QueryEntitiesRequest* req,
                                    ::QueryEntitiesResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      const ::EntityQuery& q = req->query();
      // Ours are "name@key" prefixes; the protocol's start with '@'.
      std::string prefix = q.instanceidstartswith().value();
      if (prefix.starts_with('@')) prefix.erase(0, 1);
      if (q.has_pagesize() && q.pagesize().value() < 0) {
        return {StatusCode::INVALID_ARGUMENT, "pageSize " + std::to_string(q.pagesize().value()) + " is negative"};
      }
      const size_t page_size = q.has_pagesize() && q.pagesize().value() > 0 ? static_cast<size_t>(q.pagesize().value()) : 100;
      // Transient entities are those with no state (locked, or with
      // messages waiting, or only remembered).
      auto page = client_.list_entities(prefix, page_size, q.continuationtoken().value(), q.includetransient());
      if (!page) return to_grpc(page.status());
      for (const auto& e : page->entities) {
        if (q.has_lastmodifiedfrom() && e.updated < time_point(q.lastmodifiedfrom())) continue;
        if (q.has_lastmodifiedto() && e.updated > time_point(q.lastmodifiedto())) continue;
        entity_to(e, q.includestate(), resp->add_entities());
      }
      if (!page->continuation.empty()) resp->mutable_continuationtoken()->set_value(page->continuation);
      return grpc::Status::OK;
    });
  }

  ServerUnaryReactor* CleanEntityStorage(CallbackServerContext* ctx, const ::CleanEntityStorageRequest* req,
                                         ::CleanEntityStorageResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      // One pass does both (it is one scan of the hub's entities), and all
      // of it: no continuation.
      if (!req->removeemptyentities() && !req->releaseorphanedlocks()) return grpc::Status::OK;
      auto done = client_.clean_entity_storage();
      if (!done) return to_grpc(done.status());
      resp->set_emptyentitiesremoved(static_cast<int32_t>(done->removed));
      resp->set_orphanedlocksreleased(static_cast<int32_t>(done->locks_released));
      return grpc::Status::OK;
    });
  }

  // NOT_FOUND, or FAILED_PRECONDITION naming the status for any but Failed.
  ServerUnaryReactor* RewindInstance(CallbackServerContext* ctx, const ::RewindInstanceRequest* req,
                                     ::RewindInstanceResponse*) override {
    return unary(ctx, [&]() -> grpc::Status {
      // The SDKs send the reason as plain text (rewindInstance(id, reason)), not JSON.
      orch::Payload reason = req->has_reason() ? orch::to_payload(req->reason().value()) : orch::Payload{};
      return to_grpc(client_.rewind(req->instanceid(), std::move(reason)));
    });
  }

  // NOT_FOUND, or FAILED_PRECONDITION naming the status of an unfinished one.
  ServerUnaryReactor* RestartInstance(CallbackServerContext* ctx, const ::RestartInstanceRequest* req,
                                      ::RestartInstanceResponse* resp) override {
    return unary(ctx, [&]() -> grpc::Status {
      auto id = client_.restart(req->instanceid(), req->restartwithnewinstanceid());
      if (!id) return to_grpc(id.status());
      resp->set_instanceid(*id);
      return grpc::Status::OK;
    });
  }

  grpc::ServerWriteReactor<::WorkItem>* GetWorkItems(CallbackServerContext* ctx,
                                                      const ::GetWorkItemsRequest* req) override {
    if (grpc::Status s = authorize(ctx); !s.ok()) return refused<::WorkItem>(s);
    return open_work_stream(options_.workers, *req, ctx->peer());
  }

  ServerUnaryReactor* CompleteOrchestratorTask(CallbackServerContext* ctx, const ::OrchestratorResponse* req,
                                               ::CompleteTaskResponse*) override {
    return unary(ctx, [&] { return to_grpc(options_.workers->complete_orchestrator(*req)); });
  }

  ServerUnaryReactor* CompleteActivityTask(CallbackServerContext* ctx, const ::ActivityResponse* req,
                                           ::CompleteTaskResponse*) override {
    return unary(ctx, [&] { return to_grpc(options_.workers->complete_activity(*req)); });
  }

  ServerUnaryReactor* AbandonTaskOrchestratorWorkItem(CallbackServerContext* ctx,
                                                      const ::AbandonOrchestrationTaskRequest* req,
                                                      ::AbandonOrchestrationTaskResponse*) override {
    return unary(ctx, [&] { return to_grpc(options_.workers->abandon(req->completiontoken(), WorkerHub::kOrchestrator)); });
  }

  ServerUnaryReactor* CompleteEntityTask(CallbackServerContext* ctx, const ::EntityBatchResult* req,
                                         ::CompleteTaskResponse*) override {
    return unary(ctx, [&] { return to_grpc(options_.workers->complete_entity(*req)); });
  }

  ServerUnaryReactor* AbandonTaskEntityWorkItem(CallbackServerContext* ctx, const ::AbandonEntityTaskRequest* req,
                                                ::AbandonEntityTaskResponse*) override {
    return unary(ctx, [&] { return to_grpc(options_.workers->abandon(req->completiontoken(), WorkerHub::kEntity)); });
  }

  ServerUnaryReactor* AbandonTaskActivityWorkItem(CallbackServerContext* ctx, const ::AbandonActivityTaskRequest* req,
                                                  ::AbandonActivityTaskResponse*) override {
    return unary(ctx, [&] { return to_grpc(options_.workers->abandon(req->completiontoken(), WorkerHub::kActivity)); });
  }

 private:
  // Every call: the key, when there is one, and the hub, when named.
  grpc::Status authorize(CallbackServerContext* ctx) const {
    const auto& metadata = ctx->client_metadata();
    if (!options_.key.empty()) {
      auto it = metadata.find("authorization");
      const std::string expected = "Bearer " + options_.key;
      if (it == metadata.end() ||
          !equal_in_constant_time(std::string_view(it->second.data(), it->second.size()), expected)) {
        return {StatusCode::UNAUTHENTICATED,
                it == metadata.end() ? "this server needs 'authorization: Bearer <key>' metadata"
                                     : "the key in the authorization metadata is not this server's"};
      }
    }
    auto hub = metadata.find("taskhub");
    if (hub != metadata.end()) {
      const std::string_view named(hub->second.data(), hub->second.size());
      if (named != options_.hub) {
        return {StatusCode::NOT_FOUND,
                "no task hub '" + excerpt(named) + "' here (this server serves '" + options_.hub + "')"};
      }
    }
    return grpc::Status::OK;
  }

  template <class Body>
  ServerUnaryReactor* unary(CallbackServerContext* ctx, Body&& body) {
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    grpc::Status status = authorize(ctx);
    if (status.ok()) {
      try {
        status = body();
      } catch (const std::exception& e) {
        logger("durabletask")->error("a call from {} failed: {}", ctx->peer(), e.what());
        status = grpc::Status(StatusCode::INTERNAL, e.what());
      }
    }
    reactor->Finish(status);
    return reactor;
  }

  ServerUnaryReactor* wait(CallbackServerContext* ctx, const ::GetInstanceRequest* req, ::GetInstanceResponse* resp,
                           client::Waits::Until until) {
    if (grpc::Status s = authorize(ctx); !s.ok()) {
      ServerUnaryReactor* reactor = ctx->DefaultReactor();
      reactor->Finish(s);
      return reactor;
    }
    return wait_call(waits_, req->instanceid(), until, resp, req->getinputsandoutputs());
  }

  // A payload from the caller into `out`: over the limit is
  // RESOURCE_EXHAUSTED, text that is not JSON INVALID_ARGUMENT.
  grpc::Status payload(const google::protobuf::StringValue& text, bool present, std::string_view what,
                       orch::Payload& out) const {
    if (present && text.value().size() > options_.max_payload_bytes) {
      return {StatusCode::RESOURCE_EXHAUSTED, std::string(what) + " is " + std::to_string(text.value().size()) +
                                                  " bytes, over the limit of " +
                                                  std::to_string(options_.max_payload_bytes) + " bytes"};
    }
    auto p = payload_from(text, present, what);
    if (!p) return to_grpc(p.status());
    out = std::move(*p);
    return grpc::Status::OK;
  }

  const GrpcOptions& options_;
  client::Client& client_;
  client::Waits& waits_;
};

// ------------------------------------------------------------------ server

struct GrpcServer::Impl {
  GrpcOptions options;
  std::unique_ptr<client::Client> client;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep{io.get_executor()};
  std::thread io_thread;
  std::unique_ptr<client::Waits> waits;
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::once_flag stopped;
};

Result<std::unique_ptr<GrpcServer>> GrpcServer::start(GrpcOptions options, client::ClientOptions client_options) {
  if (!options.workers) return Status::invalid_argument("GrpcOptions::workers is null");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  client_options.max_payload_bytes = impl->options.max_payload_bytes;
  // Redis may be restarting (an embedded server's supervisor brings it back).
  auto client = client::connect_patiently(client_options, std::chrono::seconds(30));
  if (!client) return client.status();
  impl->client = std::move(*client);
  impl->waits = std::make_unique<client::Waits>(impl->io, *impl->client);
  impl->service = std::make_unique<Service>(impl->options, *impl->client, *impl->waits);

  const std::string address = impl->options.host + ":" + std::to_string(impl->options.port);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &impl->port);
  builder.RegisterService(impl->service.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(impl->options.max_payload_bytes + kMessageSlack));
  builder.SetMaxSendMessageSize(-1);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    return Status(Errc::unavailable, "cannot serve the Durable Task protocol on " + address +
                                         " (the address is in use or cannot be bound)");
  }
  impl->io_thread = std::thread([io = &impl->io] { io->run(); });
  logger("durabletask")->info("serving the Durable Task protocol (gRPC) on {}:{}", impl->options.host, impl->port);
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() { stop(); }

uint16_t GrpcServer::port() const { return static_cast<uint16_t>(impl_->port); }

void GrpcServer::stop() {
  std::call_once(impl_->stopped, [impl = impl_.get()] {
    impl->waits->close();
    // Cancels the streams and long polls still open, after a moment for
    // the calls in progress.
    impl->server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    impl->server->Wait();
    impl->keep.reset();
    impl->io.stop();
    if (impl->io_thread.joinable()) impl->io_thread.join();
  });
}

}  // namespace durable::durabletask
