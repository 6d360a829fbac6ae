// The protocol server through a gRPC stub: the calls a worker or client
// makes, and the bad ones, each answered with a clear status (entities,
// instance ids and histories: server_entities_test.cpp).
#include <regex>

#include "tests/durabletask/stub_support.hpp"

namespace durable::durabletask {
namespace {

using namespace stub_testing;
using orchestration::from_payload;
using orchestration::to_payload;

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

// Issue 18's calls on a running instance: rewind and restart refused with
// FAILED_PRECONDITION naming the status, a recursive purge too; unknown ids
// are NOT_FOUND; a start with a reuse policy not listing Running is
// ALREADY_EXISTS. None of them touches the instance.
TEST_F(GrpcTest, RewindRestartRecursivePurgeAndReusePolicy_OnARunningInstance) {
  Calls calls{*stub_};
  calls.start_approval("running");
  {
    // Running, not still Pending, before the refusal that names the status.
    ::GetInstanceRequest started;
    started.set_instanceid("running");
    ::GetInstanceResponse state;
    auto wait = context();
    ASSERT_TRUE(stub_->WaitForInstanceStart(wait.get(), started, &state).ok());
  }
  {
    ::RewindInstanceRequest request;
    request.set_instanceid("running");
    ::RewindInstanceResponse response;
    auto ctx = context();
    EXPECT_TRUE(has_status(stub_->RewindInstance(ctx.get(), request, &response), StatusCode::FAILED_PRECONDITION,
                           "instance 'running' is Running; only a Failed instance can be rewound"));
    request.set_instanceid("nobody");
    auto ctx2 = context();
    EXPECT_TRUE(has_status(stub_->RewindInstance(ctx2.get(), request, &response), StatusCode::NOT_FOUND, "nobody"));
  }
  {
    ::RestartInstanceRequest request;
    request.set_instanceid("running");
    request.set_restartwithnewinstanceid(true);
    ::RestartInstanceResponse response;
    auto ctx = context();
    EXPECT_TRUE(has_status(stub_->RestartInstance(ctx.get(), request, &response), StatusCode::FAILED_PRECONDITION,
                           "instance 'running' is Running; only a finished instance can be restarted"));
  }
  {
    ::PurgeInstancesRequest request;
    request.set_instanceid("running");
    request.set_recursive(true);
    EXPECT_TRUE(has_status(calls.purge(request), StatusCode::FAILED_PRECONDITION, "is Running"));
  }
  {
    ::CreateInstanceRequest request;
    request.set_name("Approval");
    request.set_instanceid("running");
    request.mutable_orchestrationidreusepolicy()->add_replaceablestatus(ORCHESTRATION_STATUS_COMPLETED);
    ::CreateInstanceResponse response;
    auto ctx = context();
    EXPECT_TRUE(has_status(stub_->StartInstance(ctx.get(), request, &response), StatusCode::ALREADY_EXISTS,
                           "(it is Running) and the id reuse policy does not let a start replace it"));
  }
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

}  // namespace
}  // namespace durable::durabletask
