#pragma once
// Waits: the HTTP API's long polls (a start's ?timeout=), answered when the
// instance's completion notice arrives, holding no thread meanwhile: each
// wait is a Client::Watch and a timer on the server's io_context.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "base/status.hpp"
#include "client/client.hpp"

namespace boost::asio {
class io_context;
}

namespace durable::http {

class Waits {
 public:
  /// What a wait ends with: the finished row; nullopt when the time ran out
  /// (or the server is closing) first; not_found or unavailable.
  using Done = std::function<void(Result<std::optional<store::InstanceRow>>)>;

  Waits(boost::asio::io_context& io, client::Client& client);
  /// Answers nobody: close() first, while the io_context runs.
  ~Waits();
  Waits(const Waits&) = delete;
  Waits& operator=(const Waits&) = delete;

  /// Calls `done` once, from a thread of the io_context (or this one), when
  /// instance `id` has finished or `timeout` has passed. Blocks for one
  /// look at the row (and, when the notice reader was quiet, one round trip
  /// to place it).
  void wait(const std::string& id, std::chrono::milliseconds timeout, Done done);
  /// Ends every outstanding wait at once with nullopt; later waits end at
  /// once too.
  void close();
  /// Waits not yet answered.
  size_t outstanding() const;

 private:
  struct Wait;
  void check(const std::shared_ptr<Wait>& w);
  void answer(const std::shared_ptr<Wait>& w, Result<std::optional<store::InstanceRow>> outcome);

  boost::asio::io_context& io_;
  client::Client& client_;
  mutable std::mutex mu_;
  std::unordered_set<std::shared_ptr<Wait>> waits_;
  bool closed_ = false;
};

}  // namespace durable::http
