#include "durabletask/calls.hpp"

#include <deque>
#include <mutex>

#include "base/log.hpp"
#include "durabletask/convert.hpp"

namespace durable::durabletask {
namespace {

using grpc::ServerUnaryReactor;
using grpc::StatusCode;

// A long poll nobody cancels still ends, after this long.
constexpr std::chrono::hours kLongestWait{24};

// One worker's GetWorkItems stream: items the hub hands it are written one
// at a time, in order.
class WorkStream : public grpc::ServerWriteReactor<::WorkItem>, public WorkerHub::Stream {
 public:
  WorkStream(std::shared_ptr<WorkerHub> hub, const ::GetWorkItemsRequest& request, std::string peer)
      : hub_(std::move(hub)), peer_(std::move(peer)) {
    logger("durabletask")->info("worker {} connected", peer_);
    worker_ = hub_->connect(this, request);
  }

  void send(std::shared_ptr<const ::WorkItem> item) override {
    std::lock_guard lock(mu_);
    if (ended_) return;
    queue_.push_back(std::move(item));
    if (queue_.size() == 1) StartWrite(queue_.front().get());
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    if (!ok) return end_locked(grpc::Status(StatusCode::UNAVAILABLE, "the stream broke"));
    queue_.pop_front();
    if (!queue_.empty()) StartWrite(queue_.front().get());
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    end_locked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    hub_->disconnect(worker_);
    logger("durabletask")->info("worker {} disconnected", peer_);
    delete this;
  }

 private:
  void end_locked(const grpc::Status& status) {
    if (ended_) return;
    ended_ = true;
    queue_.clear();
    Finish(status);
  }

  std::shared_ptr<WorkerHub> hub_;
  const std::string peer_;
  uint64_t worker_ = 0;
  std::mutex mu_;
  std::deque<std::shared_ptr<const ::WorkItem>> queue_;  // front: being written
  bool ended_ = false;
};

// A long poll (WaitForInstanceStart, WaitForInstanceCompletion): answered
// by the Waits, or ended by the caller going away.
class WaitCall : public ServerUnaryReactor {
 public:
  WaitCall(client::Waits& waits, ::GetInstanceResponse* response, bool with_payloads)
      : waits_(waits), shared_(std::make_shared<Shared>()) {
    shared_->call = this;
    shared_->response = response;
    shared_->with_payloads = with_payloads;
  }

  void begin(const std::string& id, client::Waits::Until until) {
    auto shared = shared_;
    const auto ticket = waits_.wait(id, until, kLongestWait, [shared](auto outcome) { answer(shared, std::move(outcome)); });
    std::lock_guard lock(shared_->mu);
    ticket_ = ticket;
    if (shared_->finished) waits_.cancel(ticket);
  }

  void OnCancel() override {
    client::Waits::Ticket ticket = 0;
    {
      std::lock_guard lock(shared_->mu);
      ticket = ticket_;
      finish_locked(*shared_, grpc::Status::CANCELLED);
    }
    if (ticket != 0) waits_.cancel(ticket);
  }

  void OnDone() override {
    {
      std::lock_guard lock(shared_->mu);
      shared_->call = nullptr;
    }
    delete this;
  }

 private:
  struct Shared {
    std::mutex mu;
    WaitCall* call = nullptr;  // null once done
    ::GetInstanceResponse* response = nullptr;
    bool with_payloads = false;
    bool finished = false;
  };

  static void finish_locked(Shared& s, const grpc::Status& status) {
    if (s.finished || !s.call) return;
    s.finished = true;
    s.call->Finish(status);
  }

  static void answer(const std::shared_ptr<Shared>& s, Result<std::optional<store::InstanceRow>> outcome) {
    std::lock_guard lock(s->mu);
    if (s->finished || !s->call) return;
    if (!outcome) {
      if (outcome.status().code() == Errc::not_found) {
        s->response->set_exists(false);
        return finish_locked(*s, grpc::Status::OK);
      }
      return finish_locked(*s, to_grpc(outcome.status()));
    }
    if (!*outcome) return finish_locked(*s, grpc::Status(StatusCode::DEADLINE_EXCEEDED, "the wait timed out"));
    s->response->set_exists(true);
    state_to(**outcome, s->with_payloads, s->response->mutable_orchestrationstate());
    finish_locked(*s, grpc::Status::OK);
  }

  client::Waits& waits_;
  std::shared_ptr<Shared> shared_;
  client::Waits::Ticket ticket_ = 0;  // guarded by shared_->mu
};

// StreamInstanceHistory: the chunks, read before the call began, written
// one at a time; the caller going away ends it.
class HistoryStream : public grpc::ServerWriteReactor<::HistoryChunk> {
 public:
  explicit HistoryStream(std::vector<::HistoryChunk> chunks) : chunks_(std::move(chunks)) { next(); }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(StatusCode::UNAVAILABLE, "the stream broke"));
    ++at_;
    next();
  }
  void OnDone() override { delete this; }

 private:
  void next() {
    if (at_ == chunks_.size()) return Finish(grpc::Status::OK);
    StartWrite(&chunks_[at_]);
  }

  std::vector<::HistoryChunk> chunks_;
  size_t at_ = 0;
};

}  // namespace

grpc::Status to_grpc(const Status& s) {
  switch (s.code()) {
    case Errc::ok: return grpc::Status::OK;
    case Errc::invalid_argument: return {StatusCode::INVALID_ARGUMENT, s.message()};
    case Errc::not_found: return {StatusCode::NOT_FOUND, s.message()};
    case Errc::already_exists: return {StatusCode::ALREADY_EXISTS, s.message()};
    case Errc::failed_precondition: return {StatusCode::FAILED_PRECONDITION, s.message()};
    case Errc::unavailable:
    case Errc::lease_lost: return {StatusCode::UNAVAILABLE, s.message()};
    case Errc::deadline_exceeded: return {StatusCode::DEADLINE_EXCEEDED, s.message()};
    case Errc::cancelled: return {StatusCode::CANCELLED, s.message()};
    default: return {StatusCode::INTERNAL, s.message()};
  }
}

grpc::ServerWriteReactor<::WorkItem>* open_work_stream(std::shared_ptr<WorkerHub> hub,
                                                      const ::GetWorkItemsRequest& request, std::string peer) {
  return new WorkStream(std::move(hub), request, std::move(peer));
}

grpc::ServerUnaryReactor* wait_call(client::Waits& waits, const std::string& instance_id, client::Waits::Until until,
                                    ::GetInstanceResponse* response, bool with_payloads) {
  auto* call = new WaitCall(waits, response, with_payloads);
  call->begin(instance_id, until);
  return call;
}

grpc::ServerWriteReactor<::HistoryChunk>* history_stream(std::vector<::HistoryChunk> chunks) {
  return new HistoryStream(std::move(chunks));
}

}  // namespace durable::durabletask
