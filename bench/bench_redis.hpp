#pragma once
// The Redis a benchmark runs against: an embedded redis-server in a
// temporary folder (removed afterwards), or the one given with --redis,
// flushed and configured as the embedded server is. And what a run cost:
// Redis' CPU (INFO used_cpu_sys + used_cpu_user) and this process's (the
// node runs in it, with the benchmark's driver), per unit of work.

#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#include "cluster/embedded_redis.hpp"
#include "store/redis_connection.hpp"

namespace durable::bench {

class BenchRedis {
 public:
  /// nullopt (after printing why) when the server cannot be started.
  static std::optional<BenchRedis> open(const std::string& url, const std::string& name) {
    BenchRedis r;
    if (url.empty()) {
      r.dir_ = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(getpid()));
      cluster::EmbeddedRedisOptions e;
      e.data_dir = r.dir_;
      auto started = cluster::EmbeddedRedis::start(e);
      if (!started) {
        fmt::print(stderr, "redis: {}\n", started.status().message());
        return std::nullopt;
      }
      r.embedded_ = std::move(*started);
      r.address_ = r.embedded_->address();
      return r;
    }
    r.address_ = *store::RedisAddress::parse(url);
    if (auto conn = store::RedisConnection::connect(r.address_, std::chrono::seconds(5))) {
      (void)conn->command("FLUSHALL");
      // As the embedded server runs (cluster/embedded_redis.cpp).
      (void)conn->command("CONFIG", "SET", "stream-node-max-bytes", "256");
    }
    return r;
  }

  BenchRedis(BenchRedis&&) = default;
  BenchRedis& operator=(BenchRedis&&) = default;
  ~BenchRedis() {
    if (embedded_) (void)embedded_->stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  const store::RedisAddress& address() const { return address_; }

  /// Redis' CPU seconds so far (user + sys); -1 when INFO cannot be read.
  double redis_cpu_seconds() const {
    auto conn = store::RedisConnection::connect(address_, std::chrono::seconds(5));
    if (!conn) return -1;
    auto info = conn->command("INFO", "cpu");
    if (!info) return -1;
    const std::string text((*info)->str, (*info)->len);
    double total = 0;
    for (const char* field : {"used_cpu_sys:", "used_cpu_user:"}) {
      const auto at = text.find(field);
      if (at == std::string::npos) return -1;
      total += std::stod(text.substr(at + std::string_view(field).size()));
    }
    return total;
  }

 private:
  BenchRedis() = default;
  std::unique_ptr<cluster::EmbeddedRedis> embedded_;
  std::filesystem::path dir_;
  store::RedisAddress address_;
};

/// This process's CPU seconds so far (user + sys, every thread).
inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

/// CPU microseconds per unit of work between construction and per().
class CpuMeter {
 public:
  explicit CpuMeter(const BenchRedis& redis)
      : redis_(redis), redis0_(redis.redis_cpu_seconds()), process0_(process_cpu_seconds()) {}
  struct PerUnit {
    double redis_us;
    double process_us;
  };
  PerUnit per(double units) const {
    return {(redis_.redis_cpu_seconds() - redis0_) * 1e6 / units, (process_cpu_seconds() - process0_) * 1e6 / units};
  }

 private:
  const BenchRedis& redis_;
  double redis0_;
  double process0_;
};

}  // namespace durable::bench
