#pragma once
// The Redis a benchmark runs against: an embedded redis-server in a
// temporary folder (removed afterwards), or the one given with --redis,
// flushed and configured as the embedded server is.

#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
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

 private:
  BenchRedis() = default;
  std::unique_ptr<cluster::EmbeddedRedis> embedded_;
  std::filesystem::path dir_;
  store::RedisAddress address_;
};

}  // namespace durable::bench
