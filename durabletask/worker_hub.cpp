#include "durabletask/worker_hub.hpp"

#include <algorithm>

#include "base/guid.hpp"
#include "base/log.hpp"
#include "base/text.hpp"
#include "durabletask/convert.hpp"

namespace durable::durabletask {
namespace {

using Clock = std::chrono::steady_clock;

const char* kind_name(WorkerHub::Kind kind) {
  switch (kind) {
    case WorkerHub::kOrchestrator: return "orchestrator";
    case WorkerHub::kActivity: return "activity";
    case WorkerHub::kEntity: return "entity";
  }
  return "?";
}

size_t limit_from(int32_t requested, size_t fallback) {
  return requested > 0 ? static_cast<size_t>(requested) : fallback;
}

}  // namespace

WorkerHub::WorkerHub(Options options)
    : options_(options), token_prefix_(random_guid().substr(0, 8)), watchdog_([this] { watch(); }) {}

WorkerHub::~WorkerHub() { stop(); }

void WorkerHub::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& q : queues_) q.clear();
    by_token_.clear();
    by_instance_.clear();
    out_ = 0;
  }
  wake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

uint64_t WorkerHub::connect(Stream* stream, const ::GetWorkItemsRequest& request) {
  Worker w;
  w.stream = stream;
  w.limit[kOrchestrator] = limit_from(request.maxconcurrentorchestrationworkitems(), options_.default_limit);
  w.limit[kActivity] = limit_from(request.maxconcurrentactivityworkitems(), options_.default_limit);
  w.limit[kEntity] = limit_from(request.maxconcurrententityworkitems(), options_.default_limit);
  if (request.has_workitemfilters()) {
    const auto& f = request.workitemfilters();
    for (const auto& o : f.orchestrations()) w.names[kOrchestrator].insert(ascii_lower(o.name()));
    for (const auto& a : f.activities()) w.names[kActivity].insert(ascii_lower(a.name()));
    for (const auto& e : f.entities()) w.names[kEntity].insert(ascii_lower(e.name()));
  }
  uint64_t id = 0;
  Sends sends;
  {
    std::lock_guard lock(mu_);
    id = next_worker_++;
    workers_.emplace(id, std::move(w));
    sends = assign();
  }
  deliver(std::move(sends));
  return id;
}

void WorkerHub::disconnect(uint64_t worker) {
  Sends sends;
  {
    std::lock_guard lock(mu_);
    if (!workers_.erase(worker)) return;
    std::vector<std::shared_ptr<Item>> back;
    for (auto& [token, item] : by_token_) {
      if (item->worker == worker) back.push_back(item);
    }
    if (!back.empty()) {
      logger("durabletask")->info("a worker disconnected with {} work item(s) out: they go to another", back.size());
    }
    for (auto& item : back) requeue(item);
    sends = assign();
  }
  deliver(std::move(sends));
  // Whoever is writing to this worker's stream now finishes first.
  std::unique_lock wait_for_writers(deliver_mu_);
}

void WorkerHub::submit_orchestrator(const std::string& instance_id, const std::string& name,
                                    ::OrchestratorRequest request, OrchestratorDone done) {
  auto item = std::make_shared<Item>();
  item->kind = kOrchestrator;
  item->name = ascii_lower(name);
  item->instance = instance_id;
  item->work = std::make_shared<::WorkItem>();
  *item->work->mutable_orchestratorrequest() = std::move(request);
  item->done = std::move(done);
  submit(std::move(item));
}

void WorkerHub::submit_activity(::ActivityRequest request, ActivityDone done) {
  auto item = std::make_shared<Item>();
  item->kind = kActivity;
  item->name = ascii_lower(request.name());
  item->work = std::make_shared<::WorkItem>();
  *item->work->mutable_activityrequest() = std::move(request);
  item->done = std::move(done);
  submit(std::move(item));
}

void WorkerHub::submit_entity(::EntityBatchRequest request, EntityDone done) {
  auto item = std::make_shared<Item>();
  item->kind = kEntity;
  item->instance = request.instanceid();
  // "@name@key": the filters name entities by name.
  const std::string_view id = item->instance;
  const size_t at = id.find('@', 1);
  item->name = ascii_lower(id.substr(id.starts_with('@') ? 1 : 0, at == std::string_view::npos ? id.npos : at - 1));
  item->work = std::make_shared<::WorkItem>();
  *item->work->mutable_entityrequest() = std::move(request);
  item->done = std::move(done);
  submit(std::move(item));
}

void WorkerHub::submit(std::shared_ptr<Item> item) {
  Sends sends;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    if (per_instance(item->kind)) {
      auto [it, fresh] = by_instance_.try_emplace(item->instance, item);
      if (!fresh) {
        remove(it->second);
        by_instance_[item->instance] = item;
      }
    }
    queues_[item->kind].push_back(item);
    sends = assign();
  }
  deliver(std::move(sends));
}

void WorkerHub::withdraw_orchestrator(const std::string& instance_id) { withdraw(instance_id, kOrchestrator); }

void WorkerHub::withdraw_entity(const std::string& instance_id) { withdraw(instance_id, kEntity); }

void WorkerHub::withdraw(const std::string& instance_id, Kind kind) {
  Sends sends;
  {
    std::lock_guard lock(mu_);
    auto it = by_instance_.find(instance_id);
    if (it == by_instance_.end() || it->second->kind != kind) return;
    remove(it->second);
    sends = assign();  // the room it took may go to another item
  }
  deliver(std::move(sends));
}

void WorkerHub::remove(const std::shared_ptr<Item>& item) {
  if (item->worker != 0) {
    auto w = workers_.find(item->worker);
    if (w != workers_.end()) --w->second.out[item->kind];
    item->worker = 0;
    --out_;
  } else {
    auto& q = queues_[item->kind];
    q.erase(std::remove(q.begin(), q.end(), item), q.end());
  }
  if (!item->token.empty()) by_token_.erase(item->token);
  item->token.clear();
  if (per_instance(item->kind)) {
    auto it = by_instance_.find(item->instance);
    if (it != by_instance_.end() && it->second == item) by_instance_.erase(it);
  }
}

void WorkerHub::requeue(const std::shared_ptr<Item>& item) {
  if (item->worker != 0) {
    auto w = workers_.find(item->worker);
    if (w != workers_.end()) --w->second.out[item->kind];
    item->worker = 0;
    --out_;
  }
  by_token_.erase(item->token);
  item->token.clear();
  if (per_instance(item->kind)) by_instance_[item->instance] = item;
  queues_[item->kind].push_front(item);
}

bool WorkerHub::takes(const Worker& w, const Item& item) const {
  if (w.out[item.kind] >= w.limit[item.kind]) return false;
  const auto& names = w.names[item.kind];
  return names.empty() || names.count(item.name) > 0;
}

WorkerHub::Sends WorkerHub::assign() {
  Sends sends;
  if (workers_.empty()) return sends;
  const auto now = Clock::now();
  for (size_t k = 0; k < kKinds; ++k) {
    auto& q = queues_[k];
    for (auto it = q.begin(); it != q.end();) {
      Worker* best = nullptr;
      uint64_t best_id = 0;
      bool room = false;
      for (auto& [id, w] : workers_) {
        if (w.out[k] < w.limit[k]) room = true;
        if (!takes(w, **it)) continue;
        if (!best || w.out[k] < best->out[k]) {
          best = &w;
          best_id = id;
        }
      }
      if (!room) break;  // nobody has room for this kind
      if (!best) {
        ++it;  // filtered out everywhere: it waits for a worker that takes it
        continue;
      }
      Item& item = **it;
      item.worker = best_id;
      item.token = token_prefix_ + "-" + std::to_string(next_token_++);
      item.deadline = now + options_.worker_timeout;
      ++best->out[k];
      ++out_;
      by_token_[item.token] = *it;
      // What the stream writes is a snapshot with this hand-out's token.
      auto sent = std::make_shared<::WorkItem>(*item.work);
      sent->set_completiontoken(item.token);
      sends.items.emplace_back(best->stream, std::move(sent));
      it = q.erase(it);
    }
  }
  if (!sends.items.empty()) {
    sends.hold = std::shared_lock(deliver_mu_);
    wake_.notify_all();
  }
  return sends;
}

void WorkerHub::deliver(Sends sends) {
  for (auto& [stream, item] : sends.items) stream->send(std::move(item));
}

std::shared_ptr<WorkerHub::Item> WorkerHub::take_token(const std::string& token, Kind kind, Status& error) {
  auto it = by_token_.find(token);
  if (it == by_token_.end()) {
    error = Status::not_found("no " + std::string(kind_name(kind)) + " work item is out under completion token '" +
                              excerpt(token) + "' (answered already, handed to another worker, or never issued)");
    return nullptr;
  }
  if (it->second->kind != kind) {
    error = Status::invalid_argument("completion token '" + excerpt(token) + "' is for an " +
                                     kind_name(it->second->kind) + " work item, not an " + kind_name(kind) + " one");
    return nullptr;
  }
  auto item = it->second;
  remove(item);
  return item;
}

std::string WorkerHub::token_of_instance(const std::string& instance_id) const {
  auto it = by_instance_.find(instance_id);
  return it == by_instance_.end() ? std::string() : it->second->token;
}

std::string WorkerHub::token_of_task(const std::string& instance_id, int32_t task_id) const {
  for (const auto& [token, item] : by_token_) {
    if (item->kind != kActivity) continue;
    const auto& request = item->work->activityrequest();
    if (request.taskid() == task_id && request.orchestrationinstance().instanceid() == instance_id) return token;
  }
  return {};
}

Status WorkerHub::complete_orchestrator(const ::OrchestratorResponse& response) {
  Status error;
  std::shared_ptr<Item> item;
  Sends sends;
  {
    std::lock_guard lock(mu_);
    // Older SDKs (Dapr's JavaScript 1.0) send no token back: the item out
    // for the instance is the one answered.
    item = take_token(response.completiontoken().empty() ? token_of_instance(response.instanceid())
                                                         : response.completiontoken(),
                      kOrchestrator, error);
    if (item && item->instance != response.instanceid()) {
      // Put it back as it was: the answer is for another instance.
      error = Status::invalid_argument("completion token '" + excerpt(response.completiontoken()) +
                                       "' is for instance '" + excerpt(item->instance) + "', not '" +
                                       excerpt(response.instanceid()) + "'");
      requeue(item);
      item.reset();
    }
    sends = assign();
  }
  deliver(std::move(sends));
  if (!item) return error;
  std::get<OrchestratorDone>(item->done)(response);
  return Status::ok();
}

Status WorkerHub::complete_activity(const ::ActivityResponse& response) {
  Status error;
  std::shared_ptr<Item> item;
  Sends sends;
  {
    std::lock_guard lock(mu_);
    item = take_token(response.completiontoken().empty() ? token_of_task(response.instanceid(), response.taskid())
                                                         : response.completiontoken(),
                      kActivity, error);
    sends = assign();
  }
  deliver(std::move(sends));
  if (!item) return error;
  std::get<ActivityDone>(item->done)(response);
  return Status::ok();
}

Status WorkerHub::complete_entity(const ::EntityBatchResult& result) {
  Status error;
  std::shared_ptr<Item> item;
  Sends sends;
  {
    std::lock_guard lock(mu_);
    item = take_token(result.completiontoken(), kEntity, error);
    sends = assign();
  }
  deliver(std::move(sends));
  if (!item) return error;
  std::get<EntityDone>(item->done)(result);
  return Status::ok();
}

Status WorkerHub::abandon(const std::string& token, Kind kind) {
  Status error;
  Sends sends;
  {
    std::lock_guard lock(mu_);
    auto item = take_token(token, kind, error);
    if (!item) return error;
    requeue(item);
    sends = assign();
  }
  deliver(std::move(sends));
  return Status::ok();
}

void WorkerHub::watch() {
  std::unique_lock lock(mu_);
  while (!stopped_) {
    const auto now = Clock::now();
    auto next = now + options_.worker_timeout;
    std::vector<std::shared_ptr<Item>> late;
    for (auto& [token, item] : by_token_) {
      if (item->deadline <= now) {
        late.push_back(item);
      } else {
        next = std::min(next, item->deadline);
      }
    }
    if (!late.empty()) {
      logger("durabletask")->warn("{} work item(s) unanswered after {} ms: handed to another worker", late.size(),
                                  options_.worker_timeout.count());
      for (auto& item : late) requeue(item);
      auto sends = assign();
      lock.unlock();
      deliver(std::move(sends));
      lock.lock();
      continue;
    }
    wake_.wait_until(lock, next);
  }
}

size_t WorkerHub::workers() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

bool WorkerHub::serves(Kind kind, const std::string& name) const {
  const std::string lower = ascii_lower(name);
  std::lock_guard lock(mu_);
  return std::any_of(workers_.begin(), workers_.end(), [&](const auto& w) {
    const auto& names = w.second.names[kind];
    return names.empty() || names.count(lower) > 0;
  });
}

size_t WorkerHub::queued() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& q : queues_) n += q.size();
  return n;
}

size_t WorkerHub::out() const {
  std::lock_guard lock(mu_);
  return out_;
}

}  // namespace durable::durabletask
