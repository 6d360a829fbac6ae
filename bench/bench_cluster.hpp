#pragma once
// A cluster for cluster_bench: one Redis and n durable-node processes on
// this machine, started, watched until balanced, measured (CPU) and stopped.

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/process.hpp"
#include "bench/bench_redis.hpp"
#include "client/client.hpp"

namespace durable::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Config {
  std::string redis_url;  // empty: a fresh redis-server per cluster
  std::string node_binary;
  uint32_t partitions = 32;
  double lease_ttl_s = 4;
  std::string log_level = "warn";
};

// durable-node in this program's folder or the one above it
// (build/bench/cluster_bench, build/durable-node).
inline std::string find_node_binary() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (const auto& dir : {self.parent_path(), self.parent_path().parent_path()}) {
    if (std::filesystem::exists(dir / "durable-node")) return (dir / "durable-node").string();
  }
  return {};
}

inline std::string url_of(const store::RedisAddress& a) {
  return "redis://" + (a.password.empty() ? "" : ":" + a.password + "@") + a.host + ":" + std::to_string(a.port);
}

// This process's environment without its DURABLE_* variables, and the
// nodes' Redis URL as DURABLE_REDIS.
inline std::vector<std::string> node_environment(const std::string& redis_url) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("DURABLE_", 0) != 0) env.emplace_back(*e);
  }
  env.push_back("DURABLE_REDIS=" + redis_url);
  return env;
}

// One Redis and `n` durable-node processes n1..nN. The destructor stops the
// nodes (SIGTERM: they finish their commits and hand over) before the Redis
// they write to.
class Cluster {
 public:
  static Result<std::unique_ptr<Cluster>> start(const Config& config, int n) {
    std::unique_ptr<Cluster> c(new Cluster);
    c->redis_ = BenchRedis::open(config.redis_url, "durable-cluster-bench-" + std::to_string(n));
    if (!c->redis_) return Status::internal("no redis-server");
    // Short leases, renewed four times per TTL, so that a killed node's
    // partitions move within seconds; the client must count a node as gone
    // when the nodes do.
    const double renewal_s = config.lease_ttl_s / 4;
    const double node_timeout_s = config.lease_ttl_s * 3 / 4;
    c->options_.address = c->redis_->address();
    c->options_.partitions = config.partitions;
    c->options_.node_timeout = std::chrono::milliseconds(static_cast<int64_t>(node_timeout_s * 1000));
    const std::string url = config.redis_url.empty() ? url_of(c->redis_->address()) : config.redis_url;
    for (int i = 1; i <= n; ++i) {
      Node node{"n" + std::to_string(i), -1,
                std::filesystem::temp_directory_path() / fmt::format("durable-cluster-bench-{}-n{}.log", getpid(), i)};
      std::error_code ec;
      std::filesystem::remove(node.log, ec);  // spawn appends; keep one cluster per log
      SpawnOptions spawn_options;
      // The URL may hold a password: it goes in the environment, never on
      // the command line; the caller's DURABLE_* settings do not leak in.
      spawn_options.environment = node_environment(url);
      spawn_options.argv = {config.node_binary, "--node-id", node.id, "--http", "off",
                            "--partitions", std::to_string(config.partitions),
                            "--lease-ttl", fmt::format("{}", config.lease_ttl_s),
                            "--lease-renewal", fmt::format("{}", renewal_s),
                            "--node-timeout", fmt::format("{}", node_timeout_s),
                            "--log-level", config.log_level};
      spawn_options.log = node.log;
      // Spawned from the main thread, which outlives them: an interrupted
      // bench leaves no node behind.
      spawn_options.lifetime = ChildLifetime::die_with_parent;
      auto pid = spawn(spawn_options);
      if (!pid) return pid.status();
      node.pid = *pid;
      c->nodes_.push_back(std::move(node));
    }
    auto client = client::Client::connect(c->options_);
    if (!client) return client.status();
    c->client_ = std::move(*client);
    return c;
  }

  ~Cluster() {
    for (Node& n : nodes_) {
      if (n.pid > 0) (void)terminate(n.pid, 20s, "durable-node " + n.id);
      std::error_code ec;
      std::filesystem::remove(n.log, ec);
    }
  }

  client::Client& client() { return *client_; }
  const client::ClientOptions& options() const { return options_; }
  const std::string& node_id(size_t i) const { return nodes_[i].id; }

  /// Waits until the live nodes (all but the killed ones) own every
  /// partition between them, each at least its share; returns the seconds
  /// it took. Nodes started together settle a lease round or two after the
  /// first one took everything, so "every partition owned" alone could
  /// measure a one-node cluster.
  /// CPU seconds so far: Redis' and the node processes' together.
  std::pair<double, double> cpu_seconds() const {
    double nodes = 0;
    for (const Node& n : nodes_) {
      if (n.pid <= 0) continue;
      std::ifstream stat(fmt::format("/proc/{}/stat", n.pid));
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
      std::istringstream rest(text.substr(text.rfind(')') + 2));
      std::string field;
      double ticks = 0;
      for (int i = 1; i <= 13 && rest >> field; ++i) {
        if (i >= 12) ticks += std::stod(field);
      }
      nodes += ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    return {redis_->redis_cpu_seconds(), nodes};
  }

  Result<double> wait_balanced(std::chrono::seconds timeout = 60s) {
    const auto t = Clock::now();
    std::vector<const Node*> live;
    for (const Node& n : nodes_) {
      if (n.pid > 0) live.push_back(&n);
    }
    const size_t share = options_.partitions / live.size();
    for (;;) {
      auto nodes = client_->nodes();
      if (!nodes) return nodes.status();
      std::set<uint32_t> owned;
      size_t fair = 0;
      for (const store::NodeInfo& info : *nodes) {
        const bool ours = std::any_of(live.begin(), live.end(), [&](const Node* n) { return n->id == info.id; });
        if (!ours || !info.live) continue;
        owned.insert(info.partitions.begin(), info.partitions.end());
        if (info.partitions.size() >= share) ++fair;
      }
      if (owned.size() == options_.partitions && fair == live.size()) return seconds_since(t);
      for (const Node* n : live) {
        if (!process_running(n->pid)) return Status::internal("durable-node " + n->id + " exited\n" + log_tails());
      }
      if (Clock::now() - t > timeout) {
        return Status::internal(fmt::format("partitions not balanced after {} s\n{}", timeout.count(), log_tails()));
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  /// SIGKILL: a crash. No hand-over; its leases stay until they expire.
  void kill(size_t i) {
    kill_and_wait(nodes_[i].pid);
    nodes_[i].pid = -1;
  }

  /// The end of every node's log, for failure messages.
  std::string log_tails() const {
    std::string out;
    for (const Node& n : nodes_) out += fmt::format("--- {} ---\n{}", n.id, file_tail(n.log, 2000));
    return out;
  }

 private:
  struct Node {
    std::string id;
    pid_t pid;
    std::filesystem::path log;
  };

  Cluster() = default;

  // Declared first, destroyed last: the nodes stop before their Redis does.
  std::optional<BenchRedis> redis_;
  client::ClientOptions options_;
  std::unique_ptr<client::Client> client_;
  std::vector<Node> nodes_;
};

}  // namespace durable::bench
