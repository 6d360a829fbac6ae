// The protocol server through a gRPC stub: the calls a worker or client
// makes, and the bad ones, each answered with a clear status.

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>

#include "durabletask/convert.hpp"
#include "tests/durabletask/grpc_fixture.hpp"

namespace durable::durabletask {
namespace {

using grpc::StatusCode;
using orchestration::from_payload;
using orchestration::to_payload;
using Stub = ::TaskHubSidecarService::Stub;

// Expects `s` to have `code`, and a message that contains `names` (the
// problem, in the caller's words).
::testing::AssertionResult has_status(const grpc::Status& s, StatusCode code, const std::string& names = {}) {
  if (s.error_code() != code) {
    return ::testing::AssertionFailure() << "expected code " << code << ", got " << s.error_code() << ": "
                                         << s.error_message();
  }
  if (s.error_message().find(names) == std::string::npos) {
    return ::testing::AssertionFailure() << "the message does not name '" << names << "': " << s.error_message();
  }
  return ::testing::AssertionSuccess();
}

grpc::Status hello(Stub& stub, std::unique_ptr<grpc::ClientContext> ctx) {
  google::protobuf::Empty in, out;
  return stub.Hello(ctx.get(), in, &out);
}

// A StartInstance request; `input` is JSON text (unset when nullopt).
::CreateInstanceRequest start_request(const std::string& name, const std::string& id,
                                      std::optional<std::string> input = std::nullopt) {
  ::CreateInstanceRequest r;
  r.set_name(name);
  r.set_instanceid(id);
  if (input) r.mutable_input()->set_value(*input);
  return r;
}

// A JSON string of `bytes` bytes in all (quotes included).
std::string json_string_of(size_t bytes) { return "\"" + std::string(bytes - 2, 'a') + "\""; }

// An input for the C++ sample "Approval": it waits for an "Approval" event
// for an hour.
const std::string kApprovalInput = R"({"proposal":"p","timeoutSeconds":3600})";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A worker's GetWorkItems stream read on a thread of its own: next() is the
// next work item, waited for up to a timeout.
class WorkItemReader {
 public:
  WorkItemReader(Stub& stub, const ::GetWorkItemsRequest& request = {}) {
    ctx_.set_deadline(std::chrono::system_clock::now() + 120s);
    reader_ = stub.GetWorkItems(&ctx_, request);
    thread_ = std::thread([this] {
      ::WorkItem item;
      while (reader_->Read(&item)) {
        std::lock_guard lock(mu_);
        items_.push_back(item);
        changed_.notify_all();
      }
      std::lock_guard lock(mu_);
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~WorkItemReader() { cancel(); }

  std::optional<::WorkItem> next(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    if (!changed_.wait_for(lock, timeout, [&] { return !items_.empty() || ended_; }) || items_.empty()) {
      return std::nullopt;
    }
    ::WorkItem item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  /// Cancels the stream and returns how it ended.
  grpc::Status cancel() {
    if (!thread_.joinable()) return status_;
    ctx_.TryCancel();
    thread_.join();
    status_ = reader_->Finish();
    return status_;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<::WorkItem>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<::WorkItem> items_;
  bool ended_ = false;
  grpc::Status status_;
};

// The event types of `events`, by their oneof field name.
std::vector<std::string> types(const google::protobuf::RepeatedPtrField<::HistoryEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    const auto* field = ::HistoryEvent::descriptor()->FindFieldByNumber(e.eventType_case());
    out.push_back(field ? field->name() : "none");
  }
  return out;
}

using Names = std::vector<std::string>;

// Calls of the fixture's stub, each with a fresh context (no key, the right
// hub unnamed).
struct Calls {
  Stub& stub;

  grpc::Status start(const ::CreateInstanceRequest& request, std::string* id = nullptr) const {
    ::CreateInstanceResponse response;
    auto ctx = context();
    grpc::Status s = stub.StartInstance(ctx.get(), request, &response);
    if (id) *id = response.instanceid();
    return s;
  }
  grpc::Status get(const std::string& id, bool with_payloads, ::GetInstanceResponse& response) const {
    ::GetInstanceRequest request;
    request.set_instanceid(id);
    request.set_getinputsandoutputs(with_payloads);
    auto ctx = context();
    return stub.GetInstance(ctx.get(), request, &response);
  }
  grpc::Status wait(const std::string& id, bool with_payloads, ::GetInstanceResponse& response,
                    std::unique_ptr<grpc::ClientContext> ctx = nullptr) const {
    ::GetInstanceRequest request;
    request.set_instanceid(id);
    request.set_getinputsandoutputs(with_payloads);
    if (!ctx) ctx = context();
    return stub.WaitForInstanceCompletion(ctx.get(), request, &response);
  }
  grpc::Status purge(const ::PurgeInstancesRequest& request, ::PurgeInstancesResponse* response = nullptr) const {
    ::PurgeInstancesResponse ignored;
    auto ctx = context();
    return stub.PurgeInstances(ctx.get(), request, response ? response : &ignored);
  }
  grpc::Status complete(const ::OrchestratorResponse& response) const {
    ::CompleteTaskResponse ignored;
    auto ctx = context();
    return stub.CompleteOrchestratorTask(ctx.get(), response, &ignored);
  }
  grpc::Status complete(const ::ActivityResponse& response) const {
    ::CompleteTaskResponse ignored;
    auto ctx = context();
    return stub.CompleteActivityTask(ctx.get(), response, &ignored);
  }
  /// Starts an "Approval" (it stays running) as `id`.
  void start_approval(const std::string& id) const {
    grpc::Status s = start(start_request("Approval", id, kApprovalInput));
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::unique_ptr<grpc::ClientContext> context() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + 10s);
    return ctx;
  }
};

// ------------------------------------------------------------------ every call

TEST_F(GrpcTest, Hello_Answers) {
  google::protobuf::Empty in, out;
  auto ctx = context();
  EXPECT_TRUE(stub_->Hello(ctx.get(), in, &out).ok());
}

TEST_F(GrpcTest, WithAKey_ACallWithoutItOrWithAnotherIsUnauthenticated_TheRightOneIsOk) {
  serve("k1");
  EXPECT_TRUE(has_status(hello(*stub_, context()), StatusCode::UNAUTHENTICATED, "authorization"));
  EXPECT_TRUE(has_status(hello(*stub_, context("k2")), StatusCode::UNAUTHENTICATED, "key"));
  EXPECT_TRUE(has_status(hello(*stub_, context("k1")), StatusCode::OK));

  // Streams too.
  auto ctx = context();
  auto reader = stub_->GetWorkItems(ctx.get(), ::GetWorkItemsRequest());
  ::WorkItem item;
  EXPECT_FALSE(reader->Read(&item));
  EXPECT_TRUE(has_status(reader->Finish(), StatusCode::UNAUTHENTICATED, "authorization"));
  EXPECT_EQ(hub_->workers(), 0u);
}

TEST_F(GrpcTest, TaskHubMetadataNamingAnotherHubIsNotFound_NamingThisOneIsOk) {
  EXPECT_TRUE(has_status(hello(*stub_, context({}, "other")), StatusCode::NOT_FOUND, "'other'"));
  EXPECT_TRUE(has_status(hello(*stub_, context({}, "h")), StatusCode::OK));
}

// ------------------------------------------------------------------ StartInstance

TEST_F(GrpcTest, StartInstance_AnInvalidIdOrEmptyNameIsInvalidArgument) {
  Calls calls{*stub_};
  EXPECT_TRUE(has_status(calls.start(start_request("HelloSequence", "bad\nid")), StatusCode::INVALID_ARGUMENT,
                         "control character"));
  EXPECT_TRUE(has_status(calls.start(start_request("HelloSequence", std::string(300, 'x'))),
                         StatusCode::INVALID_ARGUMENT, "too long"));
  EXPECT_TRUE(has_status(calls.start(start_request("", "ok-id")), StatusCode::INVALID_ARGUMENT, "name"));
}

TEST_F(GrpcTest, StartInstance_InputThatIsNotJsonIsInvalidArgument) {
  Calls calls{*stub_};
  EXPECT_TRUE(has_status(calls.start(start_request("HelloSequence", "bad-json", "{oops")),
                         StatusCode::INVALID_ARGUMENT, "input"));
}

TEST_F(GrpcTest, StartInstance_InputOverThePayloadLimitIsResourceExhausted) {
  serve(key_, 1u << 20);
  Calls calls{*stub_};
  EXPECT_TRUE(has_status(calls.start(start_request("HelloSequence", "big", json_string_of(3u << 19))),
                         StatusCode::RESOURCE_EXHAUSTED, "limit of 1048576 bytes"));
  // Over what gRPC receives at all (the limit and 1 MiB of slack).
  const grpc::Status s = calls.start(start_request("HelloSequence", "bigger", json_string_of(3u << 20)));
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(contains(s.error_message(), "larger than max")) << s.error_message();
  EXPECT_TRUE(has_status(hello(*stub_, context()), StatusCode::OK));
}

TEST_F(GrpcTest, StartInstance_AnIdThatIsRunningIsAlreadyExists) {
  Calls calls{*stub_};
  calls.start_approval("twice");
  EXPECT_TRUE(has_status(calls.start(start_request("Approval", "twice", kApprovalInput)),
                         StatusCode::ALREADY_EXISTS, "twice"));
}

// ------------------------------------------------------------------ GetInstance, WaitForInstanceCompletion

TEST_F(GrpcTest, HelloSequenceStartedOverGrpc_CompletesWithItsGreeting) {
  Calls calls{*stub_};
  std::string id;
  ASSERT_TRUE(has_status(calls.start(start_request("HelloSequence", "hello-1", R"(["Tokyo"])"), &id),
                         StatusCode::OK));
  EXPECT_EQ(id, "hello-1");

  ::GetInstanceResponse done;
  ASSERT_TRUE(has_status(calls.wait(id, true, done), StatusCode::OK));
  EXPECT_TRUE(done.exists());
  const auto& state = done.orchestrationstate();
  EXPECT_EQ(state.instanceid(), id);
  EXPECT_EQ(state.name(), "HelloSequence");
  EXPECT_EQ(state.orchestrationstatus(), ORCHESTRATION_STATUS_COMPLETED);
  EXPECT_EQ(state.input().value(), R"(["Tokyo"])");
  EXPECT_EQ(state.output().value(), R"(["Hello Tokyo!"])");

  ::GetInstanceResponse got;
  ASSERT_TRUE(has_status(calls.get(id, false, got), StatusCode::OK));
  EXPECT_TRUE(got.exists());
  EXPECT_EQ(got.orchestrationstate().orchestrationstatus(), ORCHESTRATION_STATUS_COMPLETED);
  EXPECT_FALSE(got.orchestrationstate().has_input());
  EXPECT_FALSE(got.orchestrationstate().has_output());
}

TEST_F(GrpcTest, GetInstanceOrWaitForAnUnknownIdIsOkWithExistsFalse) {
  Calls calls{*stub_};
  ::GetInstanceResponse got;
  ASSERT_TRUE(has_status(calls.get("nobody", true, got), StatusCode::OK));
  EXPECT_FALSE(got.exists());
  ::GetInstanceResponse waited;
  ASSERT_TRUE(has_status(calls.wait("nobody", true, waited), StatusCode::OK));
  EXPECT_FALSE(waited.exists());
}

TEST_F(GrpcTest, AWaitTheCallerGivesUpOnEndsPromptly_TheServerStaysFine) {
  Calls calls{*stub_};
  calls.start_approval("waits-forever");
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + 300ms);
  const auto began = std::chrono::steady_clock::now();
  ::GetInstanceResponse response;
  const grpc::Status s = calls.wait("waits-forever", false, response, std::move(ctx));
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_TRUE(has_status(s, StatusCode::DEADLINE_EXCEEDED, "Deadline"));
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(has_status(hello(*stub_, context()), StatusCode::OK));
  ::GetInstanceResponse got;
  ASSERT_TRUE(has_status(calls.get("waits-forever", false, got), StatusCode::OK));
  EXPECT_EQ(got.orchestrationstate().orchestrationstatus(), ORCHESTRATION_STATUS_RUNNING);
}

// ------------------------------------------------------------------ the other client calls

TEST_F(GrpcTest, RaiseEventToAnUnknownInstanceIsNotFound) {
  ::RaiseEventRequest request;
  request.set_instanceid("nobody");
  request.set_name("Approval");
  request.mutable_input()->set_value("true");
  ::RaiseEventResponse response;
  auto ctx = context();
  EXPECT_TRUE(has_status(stub_->RaiseEvent(ctx.get(), request, &response), StatusCode::NOT_FOUND, "nobody"));
}

TEST_F(GrpcTest, WhatIsNotSupportedIsUnimplemented_NamingIt) {
  Calls calls{*stub_};
  calls.start_approval("running");
  {
    ::TerminateRequest request;
    request.set_instanceid("running");
    request.set_recursive(true);
    ::TerminateResponse response;
    auto ctx = context();
    EXPECT_TRUE(has_status(stub_->TerminateInstance(ctx.get(), request, &response), StatusCode::UNIMPLEMENTED,
                           "recursive"));
  }
  {
    ::PurgeInstancesRequest request;
    request.set_instanceid("running");
    request.set_recursive(true);
    EXPECT_TRUE(has_status(calls.purge(request), StatusCode::UNIMPLEMENTED, "recursive"));
  }
  {
    ::RewindInstanceRequest request;
    request.set_instanceid("running");
    ::RewindInstanceResponse response;
    auto ctx = context();
    EXPECT_TRUE(has_status(stub_->RewindInstance(ctx.get(), request, &response), StatusCode::UNIMPLEMENTED,
                           "RewindInstance"));
  }
  {
    ::RestartInstanceRequest request;
    request.set_instanceid("running");
    ::RestartInstanceResponse response;
    auto ctx = context();
    EXPECT_TRUE(has_status(stub_->RestartInstance(ctx.get(), request, &response), StatusCode::UNIMPLEMENTED,
                           "RestartInstance"));
  }
  // None of them touched it.
  ::GetInstanceResponse got;
  ASSERT_TRUE(has_status(calls.get("running", false, got), StatusCode::OK));
  EXPECT_EQ(got.orchestrationstate().orchestrationstatus(), ORCHESTRATION_STATUS_RUNNING);
}

TEST_F(GrpcTest, PurgingARunningInstanceIsFailedPrecondition_AnUnknownOneDeletesNothing) {
  Calls calls{*stub_};
  calls.start_approval("still-running");
  ::PurgeInstancesRequest running;
  running.set_instanceid("still-running");
  EXPECT_TRUE(has_status(calls.purge(running), StatusCode::FAILED_PRECONDITION, "still-running"));

  ::PurgeInstancesRequest unknown;
  unknown.set_instanceid("nobody");
  ::PurgeInstancesResponse response;
  ASSERT_TRUE(has_status(calls.purge(unknown, &response), StatusCode::OK));
  EXPECT_EQ(response.deletedinstancecount(), 0);
}

// ------------------------------------------------------------------ worker calls

TEST_F(GrpcTest, AnswersWithAMadeUpTokenAreNotFound_NamingTheToken) {
  Calls calls{*stub_};
  ::OrchestratorResponse orchestrator;
  orchestrator.set_instanceid("i");
  orchestrator.set_completiontoken("made-up-1");
  EXPECT_TRUE(has_status(calls.complete(orchestrator), StatusCode::NOT_FOUND, "made-up-1"));

  ::ActivityResponse activity;
  activity.set_instanceid("i");
  activity.set_completiontoken("made-up-2");
  EXPECT_TRUE(has_status(calls.complete(activity), StatusCode::NOT_FOUND, "made-up-2"));

  ::AbandonActivityTaskRequest abandon;
  abandon.set_completiontoken("made-up-3");
  ::AbandonActivityTaskResponse ignored;
  auto ctx = context();
  EXPECT_TRUE(has_status(stub_->AbandonTaskActivityWorkItem(ctx.get(), abandon, &ignored), StatusCode::NOT_FOUND,
                         "made-up-3"));
}

// A worker in C++ through the stub: an orchestrator no C++ function is
// registered for, one activity, and the history the node keeps of it.
TEST_F(GrpcTest, AWorkerThroughTheStub_RunsAnOrchestrationAndItsActivity) {
  Calls calls{*stub_};
  WorkItemReader worker(*stub_);
  std::string id;
  ASSERT_TRUE(has_status(calls.start(start_request("StubOrch", "stub-1", R"("x")"), &id), StatusCode::OK));

  // Episode 1: the start.
  auto first = worker.next();
  ASSERT_TRUE(first) << "no orchestrator work item";
  ASSERT_TRUE(first->has_orchestratorrequest());
  const auto& o1 = first->orchestratorrequest();
  EXPECT_EQ(o1.instanceid(), "stub-1");
  EXPECT_TRUE(std::regex_match(o1.executionid().value(), std::regex("[0-9a-f]{32}"))) << o1.executionid().value();
  EXPECT_TRUE(o1.pastevents().empty());
  ASSERT_EQ(types(o1.newevents()), (Names{"orchestratorStarted", "executionStarted"}));
  EXPECT_EQ(o1.newevents(1).executionstarted().name(), "StubOrch");
  EXPECT_EQ(o1.newevents(1).executionstarted().input().value(), R"("x")");
  EXPECT_FALSE(first->completiontoken().empty());

  ::OrchestratorResponse schedule;
  schedule.set_instanceid(id);
  schedule.set_completiontoken(first->completiontoken());
  auto* action = schedule.add_actions();
  action->set_id(0);
  action->mutable_scheduletask()->set_name("StubAct");
  action->mutable_scheduletask()->mutable_input()->set_value(R"("y")");
  ASSERT_TRUE(has_status(calls.complete(schedule), StatusCode::OK));

  // The activity.
  auto second = worker.next();
  ASSERT_TRUE(second) << "no activity work item";
  ASSERT_TRUE(second->has_activityrequest());
  const auto& a = second->activityrequest();
  EXPECT_EQ(a.name(), "StubAct");
  EXPECT_EQ(a.taskid(), 0);
  EXPECT_EQ(a.input().value(), R"("y")");
  EXPECT_EQ(a.orchestrationinstance().instanceid(), id);
  ::ActivityResponse result;
  result.set_instanceid(id);
  result.set_taskid(0);
  result.set_completiontoken(second->completiontoken());
  result.mutable_result()->set_value(R"("z")");
  ASSERT_TRUE(has_status(calls.complete(result), StatusCode::OK));

  // Episode 2: the result.
  auto third = worker.next();
  ASSERT_TRUE(third) << "no second orchestrator work item";
  ASSERT_TRUE(third->has_orchestratorrequest());
  const auto& o2 = third->orchestratorrequest();
  EXPECT_EQ(o2.executionid().value(), o1.executionid().value());
  ASSERT_EQ(types(o2.pastevents()),
            (Names{"orchestratorStarted", "executionStarted", "taskScheduled", "orchestratorCompleted"}));
  EXPECT_EQ(o2.pastevents(2).eventid(), 0);
  EXPECT_EQ(o2.pastevents(2).taskscheduled().name(), "StubAct");
  ASSERT_EQ(types(o2.newevents()), (Names{"orchestratorStarted", "taskCompleted"}));
  EXPECT_EQ(o2.newevents(1).taskcompleted().taskscheduledid(), 0);
  EXPECT_EQ(o2.newevents(1).taskcompleted().result().value(), R"("z")");

  ::OrchestratorResponse complete;
  complete.set_instanceid(id);
  complete.set_completiontoken(third->completiontoken());
  auto* end = complete.add_actions();
  end->set_id(1);
  end->mutable_completeorchestration()->set_orchestrationstatus(ORCHESTRATION_STATUS_COMPLETED);
  end->mutable_completeorchestration()->mutable_result()->set_value(R"("done")");
  ASSERT_TRUE(has_status(calls.complete(complete), StatusCode::OK));

  ::GetInstanceResponse done;
  ASSERT_TRUE(has_status(calls.wait(id, true, done), StatusCode::OK));
  EXPECT_EQ(done.orchestrationstate().orchestrationstatus(), ORCHESTRATION_STATUS_COMPLETED);
  EXPECT_EQ(done.orchestrationstate().output().value(), R"("done")");
  ::GetInstanceResponse got;
  ASSERT_TRUE(has_status(calls.get(id, true, got), StatusCode::OK));
  EXPECT_EQ(got.orchestrationstate().orchestrationstatus(), ORCHESTRATION_STATUS_COMPLETED);
  EXPECT_EQ(got.orchestrationstate().output().value(), R"("done")");

  auto state = client_->get(id, true);
  ASSERT_TRUE(state) << state.status().to_string();
  bool scheduled = false;
  for (const auto& e : state->history) {
    if (e.type == orchestration::EventType::task_scheduled && e.name == "StubAct") scheduled = true;
  }
  EXPECT_TRUE(scheduled) << "no TaskScheduled StubAct in the history";

  // Answered already.
  EXPECT_TRUE(has_status(calls.complete(complete), StatusCode::NOT_FOUND, third->completiontoken()));
  EXPECT_FALSE(worker.next(200ms)) << "an unexpected work item";
  EXPECT_EQ(worker.cancel().error_code(), StatusCode::CANCELLED);
}

// ------------------------------------------------------------------ entities, ids, history

TEST_F(GrpcTest, EntityCallsWithAnInvalidIdAreInvalidArgument_NamingIt) {
  ::SignalEntityRequest signal;
  signal.set_instanceid("no-at-sign");
  signal.set_name("add");
  ::SignalEntityResponse signalled;
  auto ctx = context();
  EXPECT_TRUE(has_status(stub_->SignalEntity(ctx.get(), signal, &signalled), StatusCode::INVALID_ARGUMENT,
                         "'no-at-sign' is not an entity id"));
  ::GetEntityRequest get;
  get.set_instanceid("@bad/name@k");
  ::GetEntityResponse got;
  ctx = context();
  EXPECT_TRUE(has_status(stub_->GetEntity(ctx.get(), get, &got), StatusCode::INVALID_ARGUMENT, "'@bad/name@k'"));
  ::SignalEntityRequest no_operation;
  no_operation.set_instanceid("@counter@k");
  ctx = context();
  EXPECT_TRUE(has_status(stub_->SignalEntity(ctx.get(), no_operation, &signalled), StatusCode::INVALID_ARGUMENT));
}

TEST_F(GrpcTest, EntityAnswersWithAnUnknownTokenAreNotFound_NamingTheToken) {
  ::EntityBatchResult result;
  result.set_completiontoken("made-up-4");
  ::CompleteTaskResponse ignored;
  auto ctx = context();
  EXPECT_TRUE(has_status(stub_->CompleteEntityTask(ctx.get(), result, &ignored), StatusCode::NOT_FOUND, "made-up-4"));
  ::AbandonEntityTaskRequest abandon;
  abandon.set_completiontoken("made-up-5");
  ::AbandonEntityTaskResponse abandoned;
  ctx = context();
  EXPECT_TRUE(has_status(stub_->AbandonTaskEntityWorkItem(ctx.get(), abandon, &abandoned), StatusCode::NOT_FOUND,
                         "made-up-5"));
}

TEST_F(GrpcTest, SignalAndGetTheCppCounter_AnUnknownEntityIsExistsFalse) {
  ::SignalEntityRequest signal;
  signal.set_instanceid("@Counter@stub");
  signal.set_name("add");
  signal.mutable_input()->set_value("5");
  signal.set_requestid("req-1");
  ::SignalEntityResponse signalled;
  for (int i = 0; i < 2; ++i) {  // the same request id twice: applied once
    auto ctx = context();
    ASSERT_TRUE(has_status(stub_->SignalEntity(ctx.get(), signal, &signalled), StatusCode::OK));
  }
  signal.set_requestid("req-2");
  auto ctx = context();
  ASSERT_TRUE(has_status(stub_->SignalEntity(ctx.get(), signal, &signalled), StatusCode::OK));

  ::GetEntityRequest get;
  get.set_instanceid("@counter@stub");
  get.set_includestate(true);
  ::GetEntityResponse got;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    got.Clear();
    ctx = context();
    ASSERT_TRUE(has_status(stub_->GetEntity(ctx.get(), get, &got), StatusCode::OK));
    if (got.exists() && got.entity().serializedstate().value() == "10") break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(got.exists());
  EXPECT_EQ(got.entity().instanceid(), "@counter@stub");
  EXPECT_EQ(got.entity().serializedstate().value(), "10");
  EXPECT_FALSE(got.entity().has_lockedby());
  EXPECT_GT(got.entity().lastmodifiedtime().seconds(), 0);

  get.set_includestate(false);
  ctx = context();
  ASSERT_TRUE(has_status(stub_->GetEntity(ctx.get(), get, &got), StatusCode::OK));
  EXPECT_FALSE(got.entity().has_serializedstate());

  get.set_instanceid("@counter@nobody");
  ctx = context();
  ASSERT_TRUE(has_status(stub_->GetEntity(ctx.get(), get, &got), StatusCode::OK));
  EXPECT_FALSE(got.exists());
}

// Every chunk of an instance's history stream, and how it ended.
grpc::Status stream_history(Stub& stub, const std::string& id, std::vector<::HistoryEvent>& events,
                            const std::string& execution = {}) {
  ::StreamInstanceHistoryRequest request;
  request.set_instanceid(id);
  if (!execution.empty()) request.mutable_executionid()->set_value(execution);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  auto reader = stub.StreamInstanceHistory(&ctx, request);
  ::HistoryChunk chunk;
  while (reader->Read(&chunk)) {
    for (const auto& e : chunk.events()) events.push_back(e);
  }
  return reader->Finish();
}

TEST_F(GrpcTest, StreamInstanceHistory_IsTheHistory_AnUnknownInstanceOrExecutionIsNotFound) {
  auto id = client_->start("HelloSequence", to_payload(std::vector<std::string>{"Tokyo"}), "streamed");
  ASSERT_TRUE(id) << id.status().to_string();
  auto row = client_->wait(*id, 10s);
  ASSERT_TRUE(row) << row.status().to_string();

  std::vector<::HistoryEvent> events;
  ASSERT_TRUE(has_status(stream_history(*stub_, *id, events), StatusCode::OK));
  google::protobuf::RepeatedPtrField<::HistoryEvent> all(events.begin(), events.end());
  EXPECT_EQ(types(all), (Names{"orchestratorStarted", "executionStarted", "taskScheduled", "orchestratorCompleted",
                               "orchestratorStarted", "taskCompleted", "executionCompleted", "orchestratorCompleted"}));
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[1].executionstarted().name(), "HelloSequence");
  EXPECT_EQ(events[2].taskscheduled().name(), "SayHello");
  EXPECT_EQ(events[5].taskcompleted().result().value(), R"("Hello Tokyo!")");
  EXPECT_EQ(events[6].executioncompleted().result().value(), R"(["Hello Tokyo!"])");

  const std::string execution = events[1].executionstarted().orchestrationinstance().executionid().value();
  events.clear();
  EXPECT_TRUE(has_status(stream_history(*stub_, *id, events, execution), StatusCode::OK));
  EXPECT_EQ(events.size(), 8u);
  events.clear();
  EXPECT_TRUE(has_status(stream_history(*stub_, *id, events, std::string(32, '0')), StatusCode::NOT_FOUND,
                         std::string(32, '0')));
  EXPECT_TRUE(has_status(stream_history(*stub_, "nobody", events), StatusCode::NOT_FOUND, "nobody"));
  EXPECT_TRUE(events.empty());
}

TEST_F(GrpcTest, ListInstanceIds_PagesByStatusAndCompletedTime_ABadStatusIsInvalidArgument) {
  Calls calls{*stub_};
  const auto before = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) - 1s;
  std::vector<std::string> done;
  for (int i = 0; i < 5; ++i) {
    auto id = client_->start("HelloSequence", to_payload(std::vector<std::string>{"x"}), "done-" + std::to_string(i));
    ASSERT_TRUE(id) << id.status().to_string();
    ASSERT_TRUE(client_->wait(*id, 10s));
    done.push_back(*id);
  }
  calls.start_approval("waiting");

  auto list = [&](::ListInstanceIdsRequest request, std::vector<size_t>& pages) {
    std::vector<std::string> ids;
    for (;;) {
      ::ListInstanceIdsResponse response;
      auto ctx = context();
      grpc::Status s = stub_->ListInstanceIds(ctx.get(), request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return ids;
      pages.push_back(static_cast<size_t>(response.instanceids_size()));
      ids.insert(ids.end(), response.instanceids().begin(), response.instanceids().end());
      if (!response.has_lastinstancekey()) return ids;
      *request.mutable_lastinstancekey() = response.lastinstancekey();
    }
  };
  ::ListInstanceIdsRequest completed;
  completed.add_runtimestatus(ORCHESTRATION_STATUS_COMPLETED);
  completed.set_pagesize(2);
  std::vector<size_t> pages;
  auto ids = list(completed, pages);
  EXPECT_EQ(pages, (std::vector<size_t>{2, 2, 1}));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, done);

  ::ListInstanceIdsRequest running;
  running.add_runtimestatus(ORCHESTRATION_STATUS_RUNNING);
  pages.clear();
  EXPECT_EQ(list(running, pages), (std::vector<std::string>{"waiting"}));

  ::ListInstanceIdsRequest window;
  *window.mutable_completedtimefrom() = timestamp(before);
  pages.clear();
  ids = list(window, pages);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, done) << "the running one has no completed time";
  ::ListInstanceIdsRequest earlier;
  *earlier.mutable_completedtimeto() = timestamp(before);
  pages.clear();
  EXPECT_TRUE(list(earlier, pages).empty());

  ::ListInstanceIdsRequest bad;
  bad.add_runtimestatus(ORCHESTRATION_STATUS_CANCELED);
  ::ListInstanceIdsResponse response;
  auto ctx = context();
  EXPECT_TRUE(has_status(stub_->ListInstanceIds(ctx.get(), bad, &response), StatusCode::INVALID_ARGUMENT,
                         "runtimeStatus 4"));
}

// A counter entity worker in C++ through the stub: state is a number, "add"
// adds its input and returns the sum, "boom" fails.
::EntityBatchResult counter_answer(const ::WorkItem& item) {
  const auto& request = item.entityrequest();
  int64_t state = request.has_entitystate() ? std::stoll(request.entitystate().value()) : 0;
  ::EntityBatchResult result;
  result.set_completiontoken(item.completiontoken());
  for (const auto& op : request.operations()) {
    auto* r = result.add_results();
    if (op.operation() == "boom") {
      r->mutable_failure()->mutable_failuredetails()->set_errortype("RangeError");
      r->mutable_failure()->mutable_failuredetails()->set_errormessage("too far");
      continue;
    }
    state += std::stoll(op.input().value());
    r->mutable_success()->mutable_result()->set_value(std::to_string(state));
  }
  result.mutable_entitystate()->set_value(std::to_string(state));
  return result;
}

TEST_F(GrpcTest, AnEntityWorkerThroughTheStub_RunsOperations_ItsActionsAndFailuresAreCarriedOut) {
  WorkItemReader worker(*stub_);
  auto signal = [&](const std::string& op, const std::string& input, const std::string& request_id = {}) {
    ::SignalEntityRequest r;
    r.set_instanceid("@StubEntity@k");
    r.set_name(op);
    r.mutable_input()->set_value(input);
    r.set_requestid(request_id);
    ::SignalEntityResponse ignored;
    auto ctx = context();
    return stub_->SignalEntity(ctx.get(), r, &ignored);
  };
  auto complete = [&](const ::EntityBatchResult& r) {
    ::CompleteTaskResponse ignored;
    auto ctx = context();
    return stub_->CompleteEntityTask(ctx.get(), r, &ignored);
  };
  auto state_of = [&](const orchestration::EntityId& id) -> std::optional<int64_t> {
    auto got = client_->get_entity(id);
    if (!got || !got->state) return std::nullopt;
    return from_payload<int64_t>(*got->state);
  };
  const orchestration::EntityId stub_entity("stubentity", "k");

  // One operation; the answer sends a signal to the C++ Counter and starts an orchestration.
  ASSERT_TRUE(has_status(signal("add", "2", "first"), StatusCode::OK));
  auto first = worker.next();
  ASSERT_TRUE(first && first->has_entityrequest()) << "no entity work item";
  const auto& request = first->entityrequest();
  EXPECT_EQ(request.instanceid(), "@stubentity@k");
  EXPECT_FALSE(request.has_entitystate());
  ASSERT_EQ(request.operations_size(), 1);
  EXPECT_EQ(request.operations(0).operation(), "add");
  EXPECT_EQ(request.operations(0).requestid(), "first");
  EXPECT_EQ(request.operations(0).input().value(), "2");
  ::EntityBatchResult answer = counter_answer(*first);
  auto* to_counter = answer.add_actions()->mutable_sendsignal();
  to_counter->set_instanceid("@counter@fromstub");
  to_counter->set_name("add");
  to_counter->mutable_input()->set_value("5");
  auto* start = answer.add_actions();
  start->set_id(1);
  start->mutable_startneworchestration()->set_instanceid("started-by-stub");
  start->mutable_startneworchestration()->set_name("HelloSequence");
  start->mutable_startneworchestration()->mutable_input()->set_value(R"(["Oslo"])");
  ASSERT_TRUE(has_status(complete(answer), StatusCode::OK));
  EXPECT_TRUE(has_status(complete(answer), StatusCode::NOT_FOUND, first->completiontoken())) << "answered twice";

  // The batch commits after the answer is taken: the start is there soon.
  const auto exists_by = std::chrono::steady_clock::now() + 10s;
  while (!client_->get("started-by-stub") && std::chrono::steady_clock::now() < exists_by) {
    std::this_thread::sleep_for(20ms);
  }
  auto started = client_->wait("started-by-stub", 10s);
  ASSERT_TRUE(started) << started.status().to_string();
  EXPECT_EQ(from_payload<std::vector<std::string>>(started->output), std::vector<std::string>{"Hello Oslo!"});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (state_of({"counter", "fromstub"}) != 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(state_of({"counter", "fromstub"}), 5);
  EXPECT_EQ(state_of(stub_entity), 2);

  // A call from a C++ orchestration that the worker fails: its type and message reach the caller.
  auto call = client_->start("CallEntityAddGet", to_payload(CallEntityInput{"stubentity", "k", 1}), "caller");
  ASSERT_TRUE(call) << call.status().to_string();
  auto called = worker.next();
  ASSERT_TRUE(called && called->has_entityrequest());
  EXPECT_EQ(called->entityrequest().entitystate().value(), "2");
  ASSERT_EQ(called->entityrequest().operations_size(), 1);
  ::WorkItem boom = *called;
  boom.mutable_entityrequest()->mutable_operations(0)->set_operation("boom");
  ASSERT_TRUE(has_status(complete(counter_answer(boom)), StatusCode::OK));
  auto failed = client_->wait("caller", 10s);
  ASSERT_TRUE(failed) << failed.status().to_string();
  ASSERT_EQ(failed->status, orchestration::OrchestrationStatus::failed);
  ASSERT_TRUE(failed->failure);
  EXPECT_TRUE(contains(failed->failure->message + failed->failure->stack_trace, "RangeError: too far"))
      << failed->failure->error_type << ": " << failed->failure->message << "\n" << failed->failure->stack_trace;

  // A batch-level failure fails every operation and keeps the state.
  ASSERT_TRUE(has_status(signal("add", "100"), StatusCode::OK));
  auto whole = worker.next();
  ASSERT_TRUE(whole && whole->has_entityrequest());
  ::EntityBatchResult broken;
  broken.set_completiontoken(whole->completiontoken());
  broken.mutable_failuredetails()->set_errortype("Error");
  broken.mutable_failuredetails()->set_errormessage("the worker fell over");
  ASSERT_TRUE(has_status(complete(broken), StatusCode::OK));

  // "$delete" then an add: the add starts from no state (in the same batch or the next).
  ASSERT_TRUE(client_->delete_entity(stub_entity));
  ASSERT_TRUE(has_status(signal("add", "3"), StatusCode::OK));
  bool add_without_state = false;
  while (auto item = worker.next(2s)) {
    ASSERT_TRUE(item->has_entityrequest());
    for (const auto& op : item->entityrequest().operations()) {
      EXPECT_NE(op.operation(), "$delete") << "the runtime deletes, not the worker";
      if (op.input().value() == "3") add_without_state = !item->entityrequest().has_entitystate();
    }
    ASSERT_TRUE(has_status(complete(counter_answer(*item)), StatusCode::OK));
    if (add_without_state) break;
  }
  EXPECT_TRUE(add_without_state);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (state_of(stub_entity) != 3 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(state_of(stub_entity), 3);
  EXPECT_FALSE(worker.next(300ms)) << "an unexpected work item";
}

}  // namespace
}  // namespace durable::durabletask
