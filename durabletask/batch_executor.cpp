#include "durabletask/batch_executor.hpp"

#include <optional>
#include <utility>
#include <vector>

#include "base/guid.hpp"
#include "base/instance_id.hpp"
#include "base/log.hpp"
#include "durabletask/convert.hpp"
#include "orchestration/errors.hpp"

namespace durable::durabletask {
namespace {

using entities::BatchResult;
using entities::BatchWork;
using entities::EntityContext;
using entities::EntityFn;
using entities::SignalOut;
using entities::StartOut;
using orch::FailureDetails;
using orch::Payload;

// One operation for the worker, as pass 1 met it.
struct Operation {
  std::string name;
  std::string request_id;
  Payload input;
};

// What pass 2 gives back for one operation.
struct Outcome {
  Payload result;
  std::optional<FailureDetails> failure;
  // Its batch's actions, on the last operation of the batch that succeeded.
  std::vector<SignalOut> signals;
  std::vector<StartOut> starts;
};

// A batch between its two passes, shared by the worker's answers (which
// arrive one after the other, never at once).
struct Pending {
  std::shared_ptr<WorkerHub> hub;
  std::shared_ptr<std::atomic<uint64_t>> generation;
  uint64_t run = 0;  // the generation this batch belongs to
  BatchWork work;    // as handed out: pass 2 runs it again
  std::string instance_id;
  // The operations for the worker, split at each "$delete".
  std::vector<std::vector<Operation>> parts;
  size_t next = 0;                     // the part out to the worker
  std::vector<Outcome> outcomes;       // per operation, in order
  std::optional<Payload> state;        // before parts[next]; at the end, the final state
  entities::BatchExecutor::Answer answer;
};

void send_next(const std::shared_ptr<Pending>& p);

FailureDetails invalid_result(const Pending& p, const std::string& what) {
  return {"InvalidResult", "the worker's answer for entity '" + p.instance_id + "': " + what, {}};
}

// The worker's actions as the operation's signals and starts; an action
// that cannot be carried out is logged and left out.
void take_actions(const Pending& p, const ::EntityBatchResult& r, const std::string& request_id, Outcome& out) {
  auto log = logger("durabletask");
  size_t started = 0;
  for (const ::OperationAction& a : r.actions()) {
    const std::string at = "action " + std::to_string(a.id()) + " of entity '" + p.instance_id + "'";
    switch (a.operationActionType_case()) {
      case ::OperationAction::kSendSignal: {
        const auto& s = a.sendsignal();
        auto target = orch::EntityId::parse(s.instanceid());
        auto input = payload_from(s.input(), s.has_input(), "the input of signal '" + s.name() + "'");
        if (!target || !input || s.name().empty()) {
          log->warn("[{}] {}: a signal that cannot be sent ({}); left out", p.instance_id, at,
                    !target ? target.status().message() : !input ? input.status().message() : "no operation name");
          continue;
        }
        std::optional<orch::TimePoint> when;
        if (s.has_scheduledtime()) when = time_point(s.scheduledtime());
        out.signals.push_back({std::move(*target), s.name(), std::move(*input), when});
        break;
      }
      case ::OperationAction::kStartNewOrchestration: {
        const auto& s = a.startneworchestration();
        std::string id = s.instanceid();
        // Deterministic, as a C++ entity's: a batch run again starts the same one.
        if (id.empty()) id = name_based_guid(p.instance_id + "\n" + request_id + "\nstart" + std::to_string(started));
        ++started;
        auto input = payload_from(s.input(), s.has_input(), "the input of orchestration '" + s.name() + "'");
        Status valid = validate_instance_id(id);
        if (!input || !valid || s.name().empty()) {
          log->warn("[{}] {}: an orchestration start that cannot be made ({}); left out", p.instance_id, at,
                    !input ? input.status().message() : !valid ? valid.message() : "no orchestrator name");
          continue;
        }
        out.starts.push_back({s.name(), std::move(id), std::move(*input)});
        break;
      }
      default:
        log->warn("[{}] {}: an action of no known kind; left out", p.instance_id, at);
    }
  }
}

// The worker answered parts[next]: its outcomes, then the next part.
void on_answer(const std::shared_ptr<Pending>& p, const ::EntityBatchResult& r) {
  const std::vector<Operation>& part = p->parts[p->next];
  const size_t first = p->outcomes.size();
  p->outcomes.resize(first + part.size());
  std::optional<FailureDetails> all_fail;
  std::optional<Payload> state;
  if (r.has_failuredetails()) {
    all_fail = failure_from(r.failuredetails());
  } else if (static_cast<size_t>(r.results_size()) != part.size()) {
    all_fail = invalid_result(*p, std::to_string(r.results_size()) + " result(s) for " + std::to_string(part.size()) +
                                      " operation(s)");
  } else if (auto s = payload_from(r.entitystate(), r.has_entitystate(), "the entity state"); !s) {
    all_fail = invalid_result(*p, s.status().message());
  } else if (r.has_entitystate() && !r.entitystate().value().empty()) {
    state = std::move(*s);
  }
  if (all_fail) {
    for (size_t i = 0; i < part.size(); ++i) p->outcomes[first + i].failure = all_fail;
  } else {
    std::optional<size_t> last_success;
    for (size_t i = 0; i < part.size(); ++i) {
      Outcome& o = p->outcomes[first + i];
      const ::OperationResult& result = r.results(static_cast<int>(i));
      if (result.has_failure()) {
        o.failure = failure_from(result.failure().failuredetails());
        continue;
      }
      auto value = payload_from(result.success().result(), result.success().has_result(),
                                "the result of operation '" + part[i].name + "'");
      if (!value) {
        o.failure = invalid_result(*p, value.status().message());
        continue;
      }
      o.result = std::move(*value);
      last_success = i;
    }
    if (last_success) {
      take_actions(*p, r, part[*last_success].request_id, p->outcomes[first + *last_success]);
    } else if (r.actions_size() > 0) {
      logger("durabletask")->warn("[{}] the worker sent {} action(s) from operations that all failed; left out",
                                  p->instance_id, r.actions_size());
    }
    p->state = std::move(state);
  }
  ++p->next;
  if (p->next < p->parts.size()) p->state.reset();  // a "$delete" came between
  send_next(p);
}

// Pass 2: run_batch again, each operation as the worker ran it.
void finish(const std::shared_ptr<Pending>& p) {
  size_t i = 0;
  EntityFn replay = [&](EntityContext& ctx) {
    Outcome& o = p->outcomes.at(i++);
    if (o.failure) throw orch::ReportedFailure(*o.failure);
    ctx.set_result_payload(std::move(o.result));
    for (SignalOut& s : o.signals) ctx.signals().push_back(std::move(s));
    for (StartOut& s : o.starts) ctx.starts().push_back(std::move(s));
  };
  BatchWork& w = p->work;
  BatchResult result = entities::run_batch(&replay, w.entity, std::move(w.snapshot), std::move(w.messages), w.now);
  result.snapshot.state = std::move(p->state);
  p->answer(std::move(result));
}

void send_next(const std::shared_ptr<Pending>& p) {
  while (p->next < p->parts.size() && p->parts[p->next].empty()) {
    ++p->next;
    if (p->next < p->parts.size()) p->state.reset();
  }
  if (p->next == p->parts.size()) return finish(p);
  if (p->generation->load() != p->run) return;  // the actor runs this batch again
  ::EntityBatchRequest request;
  request.set_instanceid(p->instance_id);
  if (p->state && !p->state->empty()) request.mutable_entitystate()->set_value(payload_text(*p->state));
  for (const Operation& op : p->parts[p->next]) {
    ::OperationRequest* r = request.add_operations();
    r->set_operation(op.name);
    r->set_requestid(op.request_id);
    set_payload(op.input, [&] { return r->mutable_input(); });
  }
  p->hub->submit_entity(std::move(request), [p](const ::EntityBatchResult& r) { on_answer(p, r); });
}

}  // namespace

WorkerBatchExecutor::WorkerBatchExecutor(std::shared_ptr<WorkerHub> hub) : hub_(std::move(hub)) {}

WorkerBatchExecutor::~WorkerBatchExecutor() {
  ++*generation_;
  if (!instance_id_.empty()) hub_->withdraw_entity(instance_id_);
}

void WorkerBatchExecutor::run(BatchWork work, Answer answer) {
  instance_id_ = work.entity.instance_id();
  const uint64_t run = ++*generation_;

  // Pass 1: which operations run, in which order; nothing runs.
  std::vector<Operation> asked;
  EntityFn collect = [&](EntityContext& ctx) { asked.push_back({ctx.operation(), {}, ctx.input_payload()}); };
  BatchResult first = entities::run_batch(&collect, work.entity, work.snapshot, work.messages, work.now);
  if (asked.empty()) return answer(std::move(first));

  auto p = std::make_shared<Pending>();
  p->hub = hub_;
  p->generation = generation_;
  p->run = run;
  p->instance_id = instance_id_;
  p->state = work.snapshot.state;
  p->parts.emplace_back();
  size_t n = 0;
  for (const entities::OperationResult& r : first.results) {
    if (r.operation == entities::kDeleteOperation) {
      p->parts.emplace_back();
      continue;
    }
    Operation op = std::move(asked.at(n++));
    op.request_id = r.request_id;
    p->parts.back().push_back(std::move(op));
  }
  p->work = std::move(work);
  p->answer = std::move(answer);
  send_next(p);
}

namespace {

// One entity's batches on the workers here or on a peer's, chosen at each
// batch (the executor of the other side is dropped: an item of ours still
// out there is withdrawn, or goes unanswered; the entity runs it again).
class RoutedBatchExecutor : public entities::BatchExecutor {
 public:
  RoutedBatchExecutor(std::shared_ptr<WorkerHub> hub, std::string entity, PeerWorkers peers)
      : hub_(std::move(hub)), entity_(std::move(entity)), peers_(std::move(peers)) {}

  void run(BatchWork work, Answer answer) override {
    if (hub_->serves(WorkerHub::kEntity, entity_) || !peers_.available()) {
      remote_.reset();
      if (!local_) local_ = std::make_unique<WorkerBatchExecutor>(hub_);
      return local_->run(std::move(work), std::move(answer));
    }
    local_.reset();
    if (!remote_) remote_ = peers_.batches();
    remote_->run(std::move(work), std::move(answer));
  }

 private:
  std::shared_ptr<WorkerHub> hub_;
  const std::string entity_;
  const PeerWorkers peers_;
  std::unique_ptr<WorkerBatchExecutor> local_;
  std::unique_ptr<entities::BatchExecutor> remote_;
};

}  // namespace

entities::BatchExecutorFactory local_or_worker_batches(const entities::EntityRegistry& registry,
                                                       std::shared_ptr<WorkerHub> hub, PeerWorkers peers) {
  return [&registry, hub, peers](const std::string& name) -> std::unique_ptr<entities::BatchExecutor> {
    if (const entities::EntityFn* fn = registry.find(name)) return std::make_unique<entities::LocalBatchExecutor>(fn);
    if (!peers.available || !peers.batches) return std::make_unique<WorkerBatchExecutor>(hub);
    return std::make_unique<RoutedBatchExecutor>(hub, name, peers);
  };
}

entities::BatchExecutorFactory worker_batches(std::shared_ptr<WorkerHub> hub) {
  return [hub](const std::string&) -> std::unique_ptr<entities::BatchExecutor> {
    return std::make_unique<WorkerBatchExecutor>(hub);
  };
}

}  // namespace durable::durabletask
