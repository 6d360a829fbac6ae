#include "client/client.hpp"

#include <algorithm>
#include <future>

#include "base/guid.hpp"
#include "base/instance_id.hpp"
#include "base/text.hpp"
#include "client/completions.hpp"
#include "orchestration/payload.hpp"
#include "store/async_store.hpp"
#include "store/client_store.hpp"
#include "store/dead_letters.hpp"
#include "store/membership.hpp"

namespace durable::client {
namespace {

namespace events = orchestration::events;
using orchestration::TimePoint;

// Longest operation name or request id accepted (every load reads the
// entity's last 1,000 request ids).
constexpr size_t kMaxNameLength = 256;

// A wait looks at the row at least this often, whatever the notices say.
constexpr std::chrono::seconds kRecheck{5};

// Events are stamped with the client's clock: the node orders an instance's
// events by arrival (inbox order), so clock skew only shows in timestamps.
TimePoint now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

Errc code_of(const Status& s) { return s.code(); }
template <class T>
Errc code_of(const Result<T>& r) { return r.status().code(); }

store::StoreOptions store_options(const ClientOptions& o) {
  return {o.address, o.hub, o.partitions, o.timeout};
}

// Runs `fn(store)`, reconnecting `store` first if an earlier call broke it;
// when `repeatable`, runs it once more after a reconnect if it failed with
// unavailable (the connection dropped, e.g. the server restarted).
template <class Fn>
auto run(store::Store& store, bool repeatable, Fn& fn) -> decltype(fn(store)) {
  if (store.broken()) {
    if (Status s = store.reconnect(); !s) return s;
  }
  auto result = fn(store);
  if (!repeatable || code_of(result) != Errc::unavailable) return result;
  if (Status s = store.reconnect(); !s) return s;
  return fn(store);
}

Status not_found(const std::string& id) { return Status::not_found("no instance with id '" + id + "'"); }

}  // namespace

// ------------------------------------------------------------------ plumbing

struct Client::State {
  State(ClientOptions o, store::Store s, std::unique_ptr<store::AsyncStore> a)
      : options(std::move(o)),
        store(std::move(s)),
        shared(std::move(a)),
        completions(std::make_unique<Completions>(store_options(options))) {}

  using Replies = std::vector<Result<store::ReplyPtr>>;

  // Runs `fn(store)` under the lock, reconnecting first if the connection
  // broke. Never repeats `fn`: for writes.
  template <class Fn>
  auto write(Fn fn) -> decltype(fn(std::declval<store::Store&>())) {
    std::lock_guard lock(mutex);
    return run(store, /*repeatable=*/false, fn);
  }
  // As write(), and runs `fn` once more after a reconnect if it failed with
  // unavailable: for reads, which are safe to repeat.
  template <class Fn>
  auto read(Fn fn) -> decltype(fn(std::declval<store::Store&>())) {
    std::lock_guard lock(mutex);
    return run(store, /*repeatable=*/true, fn);
  }
  // Sends `commands` on the shared connection (waiting for it first if it
  // is down, up to `reconnect_wait`, default the timeout) and returns
  // `parse(replies)`; when `repeatable`, sends them once more if that
  // failed with unavailable.
  template <class Parse>
  auto exchange(bool repeatable, std::vector<std::vector<std::string>> commands, Parse parse,
                std::optional<std::chrono::milliseconds> reconnect_wait = std::nullopt)
      -> decltype(parse(std::declval<const Replies&>())) {
    for (int attempt = 0;; ++attempt) {
      if (!shared->connected(reconnect_wait.value_or(options.timeout))) {
        return Status(Errc::unavailable, "redis at " + options.address.to_string() + " is unreachable");
      }
      // Shared with the callback: it may still be returning when get() does.
      auto promise = std::make_shared<std::promise<Replies>>();
      auto replies = promise->get_future();
      const bool again = repeatable && attempt == 0;
      shared->request(again ? commands : std::move(commands),
                      [promise](Replies r) { promise->set_value(std::move(r)); });
      auto result = parse(replies.get());
      if (!again || code_of(result) != Errc::unavailable) return result;
    }
  }

  // Constant after construction.
  const ClientOptions options;
  // Guards `store`, the connection of the calls that do not share one. Its
  // const members (the commands) are used without the lock: they only read
  // the key layout, which never changes.
  std::mutex mutex;
  store::Store store;
  std::unique_ptr<store::AsyncStore> shared;
  std::unique_ptr<Completions> completions;
  std::function<void()> unlisten;  // from options.hand_off->listen
};

Result<std::optional<InstanceRow>> Client::get_row(const std::string& instance_id) {
  return state_->exchange(true, {state_->store.commands().get_command(instance_id)},
                  [&](const State::Replies& r) { return store::Commands::parse_get(instance_id, r[0]); });
}

Status Client::check_payload(const Payload& payload, const char* what) const {
  if (payload.size() <= state_->options.max_payload_bytes) return Status::ok();
  return Status::invalid_argument(std::string(what) + " is " + std::to_string(payload.size()) +
                                  " bytes; the limit is " + std::to_string(state_->options.max_payload_bytes) +
                                  " bytes (ClientOptions::max_payload_bytes)");
}

Status Client::send(const std::string& instance_id, HistoryEvent message) {
  return state_->exchange(false, {state_->store.commands().send_command(instance_id, message)},
                  [&](const State::Replies& r) { return store::Commands::parse_send(instance_id, r[0]); });
}

// ------------------------------------------------------------------ connect

Result<std::unique_ptr<Client>> Client::connect(ClientOptions options) {
  if (options.partitions == 0) return Status::invalid_argument("a hub needs at least one partition");
  auto store = store::Store::connect(store_options(options));
  if (!store) return store.status();
  if (Status s = store->check_hub(); !s) return s;
  auto shared = store::AsyncStore::open(store_options(options));
  if (!shared) return shared.status();
  return std::unique_ptr<Client>(
      new Client(std::make_unique<State>(std::move(options), std::move(*store), std::move(*shared))));
}

Client::Client(std::unique_ptr<State> state) : state_(std::move(state)) {
  if (state_->options.hand_off && state_->options.hand_off->listen) {
    Completions* completions = state_->completions.get();
    state_->unlisten =
        state_->options.hand_off->listen([completions](const InstanceRow& row) { completions->finished(row); });
  }
}

Client::~Client() {
  if (state_->unlisten) state_->unlisten();  // before the completions it reaches go
}

// ------------------------------------------------------------------ writes

Result<std::string> Client::start(const std::string& name, Payload input, std::string instance_id) {
  return start(name, std::move(input), StartOptions{std::move(instance_id), {}, {}});
}

Result<std::string> Client::start(const std::string& name, Payload input, const StartOptions& options) {
  if (!options.version.empty() || state_->options.default_version.empty()) {
    return start_as_is(name, std::move(input), options);
  }
  StartOptions with_default = options;
  with_default.version = state_->options.default_version;
  return start_as_is(name, std::move(input), with_default);
}

Result<std::string> Client::start_as_is(const std::string& name, Payload input, const StartOptions& options) {
  constexpr size_t kMaxVersion = 256;
  if (name.empty()) return Status::invalid_argument("the orchestrator name is empty");
  if (options.version.size() > kMaxVersion) {
    return Status::invalid_argument("the version is " + std::to_string(options.version.size()) +
                                    " characters long; at most " + std::to_string(kMaxVersion) + " are allowed");
  }
  std::string instance_id = options.instance_id;
  if (instance_id.empty()) {
    instance_id = new_instance_id();
  } else if (Status s = validate_instance_id(instance_id); !s) {
    return Status::invalid_argument("cannot start '" + name + "': " + s.message());
  }
  if (Status s = check_payload(input, "the input"); !s) return s;
  if (options.reuse && !options.instance_id.empty()) {
    auto taken = reuse(instance_id, *options.reuse);
    if (!taken) return taken.status();
    if (*taken) return instance_id;  // ignored: it stays as it is
  }
  const TimePoint at = now();
  // A fresh execution id per start: messages addressed to an earlier
  // execution of a reused id (a late timer, a child's result) are then
  // recognisably not for this one.
  HistoryEvent started = events::execution_started(at, name, instance_id, std::move(input), random_guid());
  started.version = options.version;
  if (options.start_at > at) started.fire_at = options.start_at;
  std::optional<store::LoadedInstance> written;
  const std::string_view starter = state_->options.hand_off ? std::string_view(state_->options.hand_off->node) : std::string_view();
  Status s = state_->exchange(false, {state_->store.commands().start_command(started, at, starter)}, [&](const State::Replies& r) {
    auto loaded = store::Commands::parse_start(started, at, r[0]);
    if (!loaded) return loaded.status();
    written = std::move(*loaded);
    return Status::ok();
  });
  if (!s) return s;
  if (state_->options.hand_off) state_->options.hand_off->deliver(std::move(*written));
  return instance_id;
}

Status Client::raise_event(const std::string& instance_id, const std::string& event_name, Payload input) {
  if (event_name.empty()) return Status::invalid_argument("the event name is empty");
  if (Status s = check_payload(input, "the event payload"); !s) return s;
  return send(instance_id, events::event_raised(now(), event_name, std::move(input)));
}

Result<bool> Client::reuse(const std::string& instance_id, const IdReusePolicy& policy) {
  auto row = get_row(instance_id);
  if (!row) return row.status();
  if (!*row) return false;  // free
  const OrchestrationStatus status = (*row)->status;
  const bool listed = std::find(policy.statuses.begin(), policy.statuses.end(), status) != policy.statuses.end();
  if (!listed || policy.action == IdReusePolicy::Action::error) {
    return Status::already_exists("an instance with id '" + instance_id + "' already exists (it is " +
                                  std::string(orchestration::status_name(status)) +
                                  ") and the id reuse policy does not let a start replace it");
  }
  if (policy.action == IdReusePolicy::Action::ignore) return true;
  if (orchestration::is_terminal(status)) return false;  // the start replaces it
  Status sent = terminate(instance_id, orchestration::to_payload(std::string("replaced by a new start")), true);
  if (!sent && sent.code() != Errc::failed_precondition) return sent;  // else it finished meanwhile
  auto ended = wait(instance_id, state_->options.timeout);
  if (!ended) {
    return Status(ended.status().code(), "terminated instance '" + instance_id +
                                             "' to start it again, but it has not ended: " + ended.status().message());
  }
  return false;
}

Status Client::terminate(const std::string& instance_id, Payload reason, bool recursive) {
  if (Status s = check_payload(reason, "the reason"); !s) return s;
  return send(instance_id, events::execution_terminated(now(), std::move(reason), recursive));
}

Status Client::rewind(const std::string& instance_id, Payload reason) {
  if (Status s = check_payload(reason, "the reason"); !s) return s;
  HistoryEvent message = events::execution_rewound(now(), std::move(reason));
  return state_->write([&](store::Store& s) { return store::ClientStore(s).rewind(instance_id, message); });
}

Result<std::string> Client::restart(const std::string& instance_id, bool new_instance_id) {
  auto row = get_row(instance_id);
  if (!row) return row.status();
  if (!*row) return not_found(instance_id);
  const InstanceRow& old = **row;
  const auto refused = [&](OrchestrationStatus status) {
    return Status::failed_precondition("instance '" + instance_id + "' is " +
                                       std::string(orchestration::status_name(status)) +
                                       "; only a finished instance can be restarted");
  };
  if (!orchestration::is_terminal(old.status)) return refused(old.status);
  StartOptions options;
  options.instance_id = new_instance_id ? std::string() : instance_id;
  options.version = old.orchestration_version;
  auto started = start_as_is(old.name, old.input, options);
  if (!started && started.status().code() == Errc::already_exists) {
    // A start got in between: say what the instance is now.
    auto now_row = get_row(instance_id);
    if (now_row && *now_row) return refused((*now_row)->status);
  }
  return started;
}

Status Client::suspend(const std::string& instance_id, Payload reason) {
  if (Status s = check_payload(reason, "the reason"); !s) return s;
  return send(instance_id, events::execution_suspended(now(), std::move(reason)));
}

Status Client::resume(const std::string& instance_id, Payload reason) {
  if (Status s = check_payload(reason, "the reason"); !s) return s;
  return send(instance_id, events::execution_resumed(now(), std::move(reason)));
}

Status Client::purge(const std::string& instance_id, bool recursive) {
  if (!recursive) return state_->write([&](store::Store& s) { return store::ClientStore(s).purge(instance_id); });
  auto purged = purge_tree(instance_id);
  return purged ? Status::ok() : purged.status();
}

Result<size_t> Client::purge_tree(const std::string& instance_id) {
  return state_->write([&](store::Store& s) { return store::ClientStore(s).purge_tree(instance_id); });
}

Result<size_t> Client::purge(const InstanceFilter& filter, bool recursive) {
  size_t purged = 0;
  std::string continuation;
  do {  // a batch at a time, so other calls get the connection in between
    auto batch = purge_batch(filter, continuation, 500, recursive);
    if (!batch) return batch.status();
    purged += batch->purged;
    continuation = std::move(batch->continuation);
  } while (!continuation.empty());
  return purged;
}

Result<Client::PurgeProgress> Client::purge_batch(const InstanceFilter& filter, const std::string& continuation,
                                                  size_t batch, bool recursive) {
  auto done = state_->write([&](store::Store& s) {
    return store::ClientStore(s).purge_batch(filter, continuation, batch, recursive);
  });
  if (!done) return done.status();
  return PurgeProgress{done->purged, std::move(done->continuation)};
}

// ------------------------------------------------------------------ reads

Result<InstanceState> Client::get(const std::string& instance_id, bool with_history) {
  std::vector<std::vector<std::string>> commands = {state_->store.commands().get_command(instance_id)};
  if (with_history) commands.push_back(state_->store.commands().history_command(instance_id));  // the same round trip
  return state_->exchange(true, std::move(commands), [&](const State::Replies& r) -> Result<InstanceState> {
    auto row = store::Commands::parse_get(instance_id, r[0]);
    if (!row) return row.status();
    if (!*row) return not_found(instance_id);
    InstanceState state{std::move(**row), {}};
    if (with_history) {
      auto history = store::Commands::parse_history(r[1]);
      if (!history) return history.status();
      state.history = std::move(*history);
    }
    return state;
  });
}

Client::Watch::Watch(Client& client, std::string id, std::shared_ptr<Subscription> subscription)
    : client_(client), id_(std::move(id)), subscription_(std::move(subscription)) {}

Client::Watch::~Watch() {
  client_.state_->completions->unsubscribe(id_, subscription_);
}

Result<InstanceRow> Client::Watch::look() {
  // A node in this process may have handed the finished row over.
  if (auto finished = subscription_->take_row(); finished && (execution_.empty() || finished->execution_id == execution_)) {
    return std::move(*finished);
  }
  auto row = client_.get_row(id_);
  if (!row) return row.status();
  if (!*row) return not_found(id_);
  if (execution_.empty()) execution_ = (*row)->execution_id;
  if ((*row)->execution_id == execution_) return std::move(**row);
  // A start replaced the execution this watch began with, which had
  // therefore finished: its row is where the start kept it.
  auto previous = client_.state_->read([&](store::Store& s) { return store::ClientStore(s).previous(id_); });
  if (previous && *previous && (*previous)->execution_id == execution_) return std::move(**previous);
  return std::move(**row);
}

bool Client::Watch::wait_until(std::chrono::steady_clock::time_point deadline) {
  return subscription_->wait_until(deadline);
}

Result<std::unique_ptr<Client::Watch>> Client::watch(const std::string& instance_id, std::function<void()> notify) {
  auto subscription = state_->completions->subscribe(instance_id, std::move(notify));
  if (!subscription) return subscription.status();
  return std::unique_ptr<Watch>(new Watch(*this, instance_id, std::move(*subscription)));
}

Result<InstanceRow> Client::wait(const std::string& instance_id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Watching first, then the row: a completion between the two is
  // announced to the watch. (Reading the row first would save the watch
  // for a finished instance, but cost a start-and-wait a round trip more.)
  auto watch = this->watch(instance_id);
  if (!watch) return watch.status();
  for (;;) {
    auto row = (*watch)->look();
    if (!row || orchestration::is_terminal(row->status)) return row;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Status(Errc::deadline_exceeded, "instance '" + instance_id + "' is still " +
                                                 std::string(orchestration::status_name(row->status)) + " after " +
                                                 std::to_string(timeout.count()) + " ms");
    }
    // A notice for it, or time to look anyway.
    (*watch)->wait_until(std::min(deadline, now + kRecheck));
  }
}

Result<InstancePage> Client::list(const InstanceFilter& filter, size_t page_size,
                                  const std::string& continuation) {
  return state_->read([&](store::Store& s) { return store::ClientStore(s).list(filter, page_size, continuation); });
}

Result<store::DeadLetterPage> Client::dead_letters(size_t page_size, const std::string& continuation) {
  return state_->read([&](store::Store& s) { return store::DeadLetters(s).list(page_size, continuation); });
}

Result<store::DeadLetter> Client::dead_letter(const std::string& id) {
  return state_->read([&](store::Store& s) { return store::DeadLetters(s).get(id); });
}

Status Client::retry_dead_letter(const std::string& id) {
  return state_->write([&](store::Store& s) { return store::DeadLetters(s).retry(id); });
}

Status Client::discard_dead_letter(const std::string& id) {
  return state_->write([&](store::Store& s) { return store::DeadLetters(s).discard(id); });
}

Result<std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>> Client::active_by_status() {
  return state_->read([](store::Store& s) { return store::ClientStore(s).active_by_status(); });
}

Result<std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>> Client::count_by_status(
    std::optional<store::TimePoint> created_from, std::optional<store::TimePoint> created_to) {
  return state_->read(
      [&](store::Store& s) { return store::ClientStore(s).count_by_status(created_from, created_to); });
}

Status Client::ping() {
  return state_->exchange(
      false, {{"PING"}}, [](const State::Replies& r) { return r[0] ? Status::ok() : r[0].status(); },
      std::chrono::milliseconds(0));
}

Result<std::vector<store::NodeInfo>> Client::nodes() {
  return state_->read([this](store::Store& s) { return store::Membership(s).nodes(state_->options.node_timeout); });
}

// ------------------------------------------------------------------ entities

namespace {

EntityState state_of(const EntityId& id, const store::EntityRecord& r) {
  EntityState s;
  s.id = id;
  s.state = r.snapshot.state;
  if (r.snapshot.lock) s.locked_by = r.snapshot.lock->instance;
  s.queued = r.snapshot.queued.size();
  s.scheduled = r.snapshot.scheduled.size();
  s.updated = r.updated;
  return s;
}

}  // namespace

Status Client::signal_entities(std::span<EntitySignal> signals) {
  std::vector<store::OutboundMessage> messages;
  messages.reserve(signals.size());
  for (EntitySignal& s : signals) {
    if (Status v = s.entity.validate(); !v) return v;
    if (s.operation.empty()) return Status::invalid_argument("the operation name is empty");
    if (s.operation.size() > kMaxNameLength || s.request_id.size() > kMaxNameLength) {
      return Status::invalid_argument("the operation name and request id may have at most " +
                                      std::to_string(kMaxNameLength) + " bytes");
    }
    if (Status p = check_payload(s.input, "signal input"); !p) return p;
    if (s.request_id.empty()) s.request_id = random_guid();
    entities::EntityMessage m;
    m.kind = entities::MessageKind::signal;
    m.request_id = s.request_id;
    m.operation = s.operation;
    m.input = s.input;
    m.at = s.at;
    messages.push_back({s.entity.instance_id(), entities::to_event(m), {}});
  }
  if (messages.empty()) return Status::ok();
  return state_->exchange(false, state_->store.commands().messages_commands(messages),
                  [](const State::Replies& r) { return store::Commands::parse_messages(r); });
}

Result<std::string> Client::signal_entity(const EntityId& entity, std::string operation, Payload input,
                                          std::string request_id, std::optional<orchestration::TimePoint> at) {
  EntitySignal one[] = {{entity, std::move(operation), std::move(input), std::move(request_id), at}};
  if (Status s = signal_entities(one); !s) return s;
  return one[0].request_id;
}

Result<std::string> Client::delete_entity(const EntityId& entity, std::string request_id) {
  return signal_entity(entity, std::string(entities::kDeleteOperation), {}, std::move(request_id));
}

Result<EntityState> Client::get_entity(const EntityId& entity) {
  if (Status v = entity.validate(); !v) return v;
  auto record = state_->read([&](store::Store& store) { return store::ClientStore(store).get_entity(entity.instance_id()); });
  if (!record) return record.status();
  if (!*record) return Status::not_found("no entity " + entity.name() + "@" + entity.key());
  return state_of(entity, **record);
}

Result<EntityStatePage> Client::list_entities(const std::string& prefix, size_t page_size,
                                              const std::string& continuation, bool include_empty) {
  // The name part compares case-insensitively: it is stored lower-cased.
  const auto at = prefix.find('@');
  const std::string id_prefix =
      "@" + (at == std::string::npos ? ascii_lower(prefix) : ascii_lower(prefix.substr(0, at)) + prefix.substr(at));
  auto page = state_->read([&](store::Store& store) {
    return store::ClientStore(store).list_entities(id_prefix, page_size, continuation, include_empty);
  });
  if (!page) return page.status();
  EntityStatePage out;
  out.continuation = std::move(page->continuation);
  for (const store::EntityListing& e : page->entities) {
    auto id = EntityId::parse(e.id);
    if (!id) continue;  // not written by durable
    out.entities.push_back(state_of(*id, e.record));
  }
  return out;
}

Result<store::EntityCleanup> Client::clean_entity_storage() {
  return state_->write([](store::Store& store) { return store::ClientStore(store).clean_entities(); });
}

}  // namespace durable::client
