// durable-node: one node of a durable cluster, with the sample
// orchestrations and activities registered. Users build their own node the
// same way (README, "Your own node").
//
//   durable-node                       embedded redis-server, data in ./.durable
//   durable-node --redis redis://:pw@host:6379
//   durable-node --http 0.0.0.0:7071   the HTTP API on all interfaces (default 127.0.0.1:7071)
//   durable-node --grpc off            no Durable Task protocol server (default 127.0.0.1:4001)
//   durable-node --version 2.0         runs version 2.0's code (and, by default, older instances)

#include <CLI/CLI.hpp>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/duration.hpp"
#include "base/log.hpp"
#include "client/client.hpp"
#include "cluster/embedded_redis.hpp"
#include "cluster/node.hpp"
#include "durabletask/batch_executor.hpp"
#include "durabletask/executors.hpp"
#include "durabletask/server.hpp"
#include "http/server.hpp"
#include "node/metrics.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"

namespace {

using namespace durable;

struct Flags {
  std::string redis_url;
  std::string data_dir = ".durable";
  std::string fsync = "everysec";
  std::string log_level = "info";
  double activity_timeout_s = 600;
  bool no_cache = false;
  std::string http = "127.0.0.1:7071";
  std::string http_key;
  http::HttpOptions http_options;  // what the --http-* flags set besides the address
  double lease_ttl_s = 10;
  double lease_renewal_s = 2;
  double node_timeout_s = 6;
  std::string grpc = "127.0.0.1:4001";
  double worker_timeout_s = 300;
  // Retention ages ("30d", "12h", "90s"); empty: kept forever.
  std::string retain_completed, retain_failed, retain_terminated;
  // How often the node samples the rates its heartbeat publishes.
  std::string rate_interval = "10s";
  // Orchestration versioning (parsed with parse_version_match/_failure).
  std::string version_match = "current-or-older";
  std::string version_failure = "reject";
  std::vector<std::string> skip_activities;
};

using namespace std::chrono_literals;

// Set by the embedded server's supervision when it gives up.
std::atomic<bool> redis_gave_up{false};
std::atomic<bool> id_taken_over{false};  // another process runs under --node-id

bool is_transient(const Status& s) { return s.code() == Errc::unavailable || s.code() == Errc::deadline_exceeded; }

// Waits up to `delay` for SIGINT or SIGTERM; true when one came.
bool stop_requested(const sigset_t& signals, std::chrono::milliseconds delay) {
  const timespec wait{static_cast<time_t>(delay.count() / 1000), static_cast<long>(delay.count() % 1000) * 1'000'000};
  return sigtimedwait(&signals, nullptr, &wait) > 0;
}

std::chrono::milliseconds seconds(double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000)); }

// Blocks SIGINT and SIGTERM in every thread (threads inherit the mask), so
// the main thread can wait for them with sigwait and shut down cleanly.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  cluster::NodeOptions options;
  CLI::App app{"durable-node: runs durable orchestrations (the samples are registered)"};
  app.add_option("--redis", flags.redis_url,
                 "redis://[:password@]host:port of the store; without it the node starts its own redis-server");
  app.add_option("--data", flags.data_dir, "folder of the embedded redis-server's data")->capture_default_str();
  app.add_option("--fsync", flags.fsync,
                 "embedded redis: 'everysec' (a machine crash may lose the last second) or 'always' "
                 "(every acknowledged write survives)")
      ->check(CLI::IsMember({"everysec", "always"}))
      ->capture_default_str();
  app.add_option("--hub", options.store.hub, "task hub name (several hubs can share one Redis)")->capture_default_str();
  app.add_option("--partitions", options.store.partitions, "partition count of the hub")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--node-id", options.runtime.node_id, "this node's name in the partition leases")->capture_default_str();
  app.add_option("--workers", options.workers, "activity worker threads (0: one per core)")->capture_default_str();
  app.add_option("--activity-timeout", flags.activity_timeout_s, "seconds before a running activity fails its task")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-history-events", options.runtime.max_history_events,
                 "an orchestration whose history grows past this many events fails (continue_as_new keeps "
                 "eternal ones short)")
      ->check(CLI::Range(size_t{100}, size_t{100'000'000}))
      ->capture_default_str();
  app.add_flag("--no-cache", flags.no_cache, "replay every episode from history (no live coroutines)");
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.add_option("--http", flags.http, "host:port of the HTTP API ('off': none; port 0: any free port)")
      ->capture_default_str();
  app.add_option("--grpc", flags.grpc,
                 "host:port of the Durable Task protocol server, for SDK workers and clients ('off': none; "
                 "port 0: any free port)")
      ->capture_default_str();
  app.add_option("--worker-timeout", flags.worker_timeout_s,
                 "seconds an SDK worker may hold a work item unanswered before it goes to another worker")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--cluster-host", options.cluster_host, "address to listen on for peers (CAF middleman)")
      ->capture_default_str();
  app.add_option("--cluster-port", options.cluster_port, "port peers reach this node at (0: any free port)")
      ->capture_default_str();
  app.add_option("--cluster-advertise", options.cluster_advertise,
                 "address peers dial for this node (default: --cluster-host; needed with 0.0.0.0)");
  app.add_option("--http-key", flags.http_key,
                 "a key every HTTP request must carry (?code= or Bearer); better in DURABLE_HTTP_KEY");
  app.add_option("--public-url", flags.http_options.public_url,
                 "where clients reach the HTTP API, for the links it gives (default: http://<--http address>)");
  app.add_option("--http-max-body", flags.http_options.max_body_bytes,
                 "largest request body in bytes, however it is sent (past it: 413)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--http-max-connections", flags.http_options.max_connections,
                 "HTTP connections open at once (one more is refused at once)")
      ->check(CLI::Range(size_t{1}, size_t{1000000}))
      ->capture_default_str();
  app.add_option("--http-threads", flags.http_options.threads,
                 "threads that run HTTP requests (waits and slow clients hold none)")
      ->check(CLI::Range(size_t{1}, size_t{1024}))
      ->capture_default_str();
  app.add_option("--lease-ttl", flags.lease_ttl_s, "seconds a partition lease lasts unrenewed (another node may take it after)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--lease-renewal", flags.lease_renewal_s, "seconds between lease renewals and heartbeats")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--node-timeout", flags.node_timeout_s, "seconds without a heartbeat before a node counts as gone")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  const auto duration_check = CLI::Validator(
      [](const std::string& text) {
        auto d = parse_duration(text);
        return d ? std::string() : d.status().message();
      },
      "DURATION");
  app.add_option("--retain-completed", flags.retain_completed,
                 "purge Completed instances this long after they finish (e.g. 30d, 12h, 90s; default: keep)")
      ->check(duration_check);
  app.add_option("--retain-failed", flags.retain_failed,
                 "purge Failed instances this long after they fail (default: keep)")
      ->check(duration_check);
  app.add_option("--retain-terminated", flags.retain_terminated,
                 "purge Terminated instances this long after they end (default: keep)")
      ->check(duration_check);
  app.add_option("--rate-interval", flags.rate_interval,
                 "how often the node samples its rates (episodes, activities, entity operations, commit "
                 "latency) for GET /cluster, the dashboard and `durable cluster`; at a lease renewal, so "
                 "never more often than --lease-renewal")
      ->check(CLI::Validator(
          [](const std::string& text) {
            auto d = parse_duration(text);
            if (!d) return d.status().message();
            return d->count() > 0 ? std::string() : "a rate interval must be more than 0, not '" + text + "'";
          },
          "DURATION"))
      ->capture_default_str();
  app.add_option("--rate-points", options.rate_points, "how many intervals of rates the node keeps and publishes")
      ->check(CLI::Range(size_t{1}, cluster::RateHistory::kMaxPoints))
      ->capture_default_str();
  app.add_option("--version", options.runtime.versioning.version,
                 "the version of the code this node runs: instances started here get it, and it runs the "
                 "instances --version-match allows (default: none, every instance runs here)");
  app.add_option("--version-match", flags.version_match,
                 "which instances' versions this node runs: none (all), strict (its own), current-or-older")
      ->capture_default_str();
  app.add_option("--version-failure", flags.version_failure,
                 "an instance this node may not run: reject (a node that can runs it; it waits for one) or "
                 "fail (it fails, naming both versions)")
      ->capture_default_str();
  app.add_option("--skip-activities", flags.skip_activities,
                 "sample activities this node does not register (comma-separated): they run on the nodes "
                 "that do, and wait while none is live")
      ->delimiter(',');
  // Every flag can also come from DURABLE_<FLAG>: secrets (--http-key, a
  // password in --redis) belong there, since ps shows a command line to
  // every local user.
  for (CLI::Option* option : app.get_options()) {
    if (option->get_lnames().empty() || option->get_lnames().front() == "help") continue;
    std::string name = "DURABLE_" + option->get_lnames().front();
    for (char& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    option->envname(name);
  }
  CLI11_PARSE(app, argc, argv);
  // An empty key would turn authentication off without a word.
  const char* key_env = std::getenv("DURABLE_HTTP_KEY");
  if ((app.count("--http-key") > 0 || key_env) && flags.http_key.empty()) {
    std::fprintf(stderr, "--http-key (or DURABLE_HTTP_KEY) is empty: give a key, or leave the flag out for none\n");
    return 2;
  }
  if (options.runtime.versioning.version.size() > 256) {  // the client's limit for a start's version
    std::fprintf(stderr, "--version is %zu characters long; at most 256 are allowed\n",
                 options.runtime.versioning.version.size());
    return 2;
  }
  if (auto match = orchestration::parse_version_match(flags.version_match); match) {
    options.runtime.versioning.match = *match;
  } else {
    std::fprintf(stderr, "--version-match: %s\n", match.status().message().c_str());
    return 2;
  }
  if (auto failure = orchestration::parse_version_failure(flags.version_failure); failure) {
    options.runtime.versioning.failure = *failure;
  } else {
    std::fprintf(stderr, "--version-failure: %s\n", failure.status().message().c_str());
    return 2;
  }
  if (flags.lease_renewal_s * 2 > flags.lease_ttl_s || flags.lease_renewal_s * 2 > flags.node_timeout_s) {
    std::fprintf(stderr, "--lease-renewal (%gs) must be at most half of --lease-ttl (%gs) and of --node-timeout (%gs)\n",
                 flags.lease_renewal_s, flags.lease_ttl_s, flags.node_timeout_s);
    return 2;
  }

  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  spdlog::set_pattern("[%H:%M:%S.%f] [%n] [%l] %v");
  auto log = durable::logger("node");
  const sigset_t stop_signals = block_stop_signals();

  std::unique_ptr<cluster::EmbeddedRedis> embedded;
  if (flags.redis_url.empty()) {
    cluster::EmbeddedRedisOptions e;
    e.data_dir = flags.data_dir;
    e.fsync = *cluster::parse_fsync(flags.fsync);  // CLI11 checked the spelling
    auto started = cluster::EmbeddedRedis::start(e);
    if (!started) {
      log->error("cannot start the embedded redis-server: {}", started.status().message());
      return 1;
    }
    embedded = std::move(*started);
    options.store.address = embedded->address();
    // A server that keeps failing to start ends the node (exit 1), so that
    // a supervisor such as systemd takes over.
    embedded->supervise([](const Status&) {
      redis_gave_up = true;
      ::kill(::getpid(), SIGTERM);
    });
  } else {
    auto address = store::RedisAddress::parse(flags.redis_url);
    if (!address) {
      log->error("--redis: {}", address.status().message());
      return 2;
    }
    options.store.address = *address;
  }
  options.runtime.cache_instances = !flags.no_cache;
  options.lease_ttl = seconds(flags.lease_ttl_s);
  options.lease_renewal = seconds(flags.lease_renewal_s);
  options.node_timeout = seconds(flags.node_timeout_s);
  options.rate_interval = *parse_duration(flags.rate_interval);  // checked above
  options.runtime.activity_timeout =
      seconds(flags.activity_timeout_s);
  for (auto [text, age] : {std::pair{&flags.retain_completed, &options.runtime.retention.completed},
                           std::pair{&flags.retain_failed, &options.runtime.retention.failed},
                           std::pair{&flags.retain_terminated, &options.runtime.retention.terminated}}) {
    if (!text->empty()) *age = *parse_duration(*text);  // checked above
  }
  if (const auto& r = options.runtime.retention; r.enabled()) {
    const auto said = [](const std::optional<std::chrono::milliseconds>& age) {
      return age ? "after " + format_duration(*age) : std::string("kept");
    };
    log->info("retention: Completed {}, Failed {}, Terminated {}", said(r.completed), said(r.failed),
              said(r.terminated));
  }

  if (const auto& v = options.runtime.versioning; v.version.empty()) {
    log->info("version: none (versioning off: every instance runs here; new instances get no version)");
  } else {
    log->info("version: {} ({}, {}); new instances started here get it", v.version, orchestration::to_string(v.match),
              orchestration::to_string(v.failure));
  }

  orchestration::Registry registry;
  samples::register_samples(registry);
  for (const std::string& name : flags.skip_activities) {
    if (!registry.remove_activity(name)) {
      log->error("--skip-activities: no sample activity is called '{}'", name);
      return 2;
    }
  }
  entities::EntityRegistry entities;
  samples::register_entity_samples(entities);
  // With the Durable Task protocol served, what no C++ function is
  // registered for goes to the SDK workers connected to it.
  std::optional<http::HttpOptions> grpc_listen;  // its host and port
  std::shared_ptr<durabletask::WorkerHub> worker_hub;
  // The node once started: work for SDK workers goes to a peer's when none
  // here takes it (a worker connected to any node serves every partition).
  auto started = std::make_shared<std::atomic<cluster::Node*>>(nullptr);
  if (flags.grpc != "off") {
    auto listen = http::parse_listen_address(flags.grpc);
    if (!listen) {
      log->error("--grpc: {}", listen.status().message());
      return 2;
    }
    grpc_listen = *listen;
    worker_hub = std::make_shared<durabletask::WorkerHub>(
        durabletask::WorkerHub::Options{seconds(flags.worker_timeout_s)});
    durabletask::PeerWorkers peers{
        [started] {
          cluster::Node* n = started->load();
          return n != nullptr && n->counters().protocol_peers > 0;
        },
        [started] { return started->load()->peer_executor({}); },
        [started] { return started->load()->peer_batch_executor(); }};
    options.runtime.episode_executor =
        durabletask::local_or_worker_episodes(registry, options.runtime.cache_instances, worker_hub, peers);
    options.runtime.foreign_episodes = durabletask::worker_episodes(worker_hub);
    options.runtime.foreign_activities = std::make_shared<durabletask::WorkerActivityExecutor>(worker_hub);
    options.runtime.batch_executor = durabletask::local_or_worker_batches(entities, worker_hub, peers);
    options.runtime.foreign_batches = durabletask::worker_batches(worker_hub);
    options.protocol_workers = [worker_hub] { return worker_hub->workers(); };
  }
  // Another process under this node id that outlives the start check
  // (started at the same moment, or a frozen twin): one of the two goes.
  options.on_duplicate_id = [](const Status&) {
    id_taken_over = true;
    ::kill(::getpid(), SIGTERM);
  };
  // Redis may come up after the node (a cluster started in any order): keep
  // trying, and say so, until it answers or the node is told to stop.
  auto node = cluster::Node::start(registry, entities, options);
  for (auto delay = 500ms; !node && is_transient(node.status()); delay = std::min(delay * 2, 5000ms)) {
    log->warn("cannot reach redis at {}: {}; retrying in {} ms", options.store.address.to_string(),
              node.status().message(), delay.count());
    if (stop_requested(stop_signals, delay)) return 0;
    node = cluster::Node::start(registry, entities, options);
  }
  if (!node) {
    log->error("cannot start: {}", node.status().message());
    return node.status().code() == Errc::already_exists ? 3 : 1;  // 3: another node has this id
  }
  started->store(node->get());

  client::ClientOptions c;
  c.address = options.store.address;
  c.hub = options.store.hub;
  c.partitions = options.store.partitions;
  c.node_timeout = options.node_timeout;
  c.default_version = options.runtime.versioning.version;  // instances started here get the node's version
  c.hand_off = (*node)->start_hand_off();
  std::unique_ptr<http::HttpServer> http;
  if (flags.http != "off") {
    auto listen = http::parse_listen_address(flags.http);
    if (!listen) {
      log->error("--http: {}", listen.status().message());
      (*node)->stop();
      return 2;
    }
    http::HttpOptions& o = flags.http_options;
    o.host = listen->host;
    o.port = listen->port;
    o.key = flags.http_key;
    o.wake = [n = node->get()](const std::string& id) { n->wake(id); };
    o.health = [n = node->get()] { return n->health(); };
    if (worker_hub) {
      o.served_by_workers = [hub = worker_hub.get()](const std::string& name) {
        return hub->serves(durabletask::WorkerHub::kOrchestrator, name);
      };
    }
    auto started = http::HttpServer::start(o, registry, entities, c,
                                           [n = node->get()] { return node::node_metrics(*n); });
    if (!started) {
      log->error("cannot serve HTTP: {}", started.status().message());
      (*node)->stop();
      if (embedded) (void)embedded->stop();
      return 1;
    }
    http = std::move(*started);
    (*node)->set_http_address(listen->host + ":" + std::to_string(http->port()));
    log->info("dashboard: {}/dashboard/", http->public_url());
  }

  std::unique_ptr<durabletask::GrpcServer> grpc;
  if (grpc_listen) {
    durabletask::GrpcOptions o;
    o.host = grpc_listen->host;
    o.port = grpc_listen->port;
    o.key = flags.http_key;
    o.hub = options.store.hub;
    o.workers = worker_hub;
    auto started = durabletask::GrpcServer::start(o, c);
    if (!started) {
      log->error("cannot serve the Durable Task protocol: {}", started.status().message());
      if (http) http->stop();
      (*node)->stop();
      if (embedded) (void)embedded->stop();
      return 1;
    }
    grpc = std::move(*started);
    (*node)->set_grpc_address(grpc_listen->host + ":" + std::to_string(grpc->port()));
  }

  log->info("running; Ctrl-C or SIGTERM stops it");
  int signal = 0;
  sigwait(&stop_signals, &signal);
  if (redis_gave_up) {
    log->error("shutting down: the embedded redis-server cannot be started again (its log: {}/redis.log)",
               embedded->data_dir().string());
  } else if (id_taken_over) {
    log->error("shutting down: another process runs with --node-id '{}'", options.runtime.node_id);
  } else {
    log->info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  }
  if (grpc) grpc->stop();
  if (http) http->stop();
  (*node)->stop();
  if (worker_hub) worker_hub->stop();
  if (embedded) (void)embedded->stop();
  if (id_taken_over) return 3;
  return redis_gave_up ? 1 : 0;
}
