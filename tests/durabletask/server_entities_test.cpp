// The protocol server through a gRPC stub: entities, instance ids and
// histories, and the bad requests of each.
#include <regex>

#include "tests/durabletask/stub_support.hpp"

namespace durable::durabletask {
namespace {

using namespace stub_testing;
using orchestration::from_payload;
using orchestration::to_payload;

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
