#pragma once
// What the stub tests of the protocol server share (server_test.cpp,
// server_entities_test.cpp): status checks, requests, a worker's stream read
// on a thread of its own.

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "durabletask/convert.hpp"
#include "tests/durabletask/grpc_fixture.hpp"

namespace durable::durabletask::stub_testing {

using grpc::StatusCode;
using Stub = ::TaskHubSidecarService::Stub;


// Expects `s` to have `code`, and a message that contains `names` (the
// problem, in the caller's words).
inline ::testing::AssertionResult has_status(const grpc::Status& s, StatusCode code, const std::string& names = {}) {
  if (s.error_code() != code) {
    return ::testing::AssertionFailure() << "expected code " << code << ", got " << s.error_code() << ": "
                                         << s.error_message();
  }
  if (s.error_message().find(names) == std::string::npos) {
    return ::testing::AssertionFailure() << "the message does not name '" << names << "': " << s.error_message();
  }
  return ::testing::AssertionSuccess();
}

inline grpc::Status hello(Stub& stub, std::unique_ptr<grpc::ClientContext> ctx) {
  google::protobuf::Empty in, out;
  return stub.Hello(ctx.get(), in, &out);
}

// A StartInstance request; `input` is JSON text (unset when nullopt).
inline ::CreateInstanceRequest start_request(const std::string& name, const std::string& id,
                                      std::optional<std::string> input = std::nullopt) {
  ::CreateInstanceRequest r;
  r.set_name(name);
  r.set_instanceid(id);
  if (input) r.mutable_input()->set_value(*input);
  return r;
}

// A JSON string of `bytes` bytes in all (quotes included).
inline std::string json_string_of(size_t bytes) { return "\"" + std::string(bytes - 2, 'a') + "\""; }

// An input for the C++ sample "Approval": it waits for an "Approval" event
// for an hour.
inline const std::string kApprovalInput = R"({"proposal":"p","timeoutSeconds":3600})";

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

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
inline std::vector<std::string> types(const google::protobuf::RepeatedPtrField<::HistoryEvent>& events) {
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

}  // namespace durable::durabletask::stub_testing
