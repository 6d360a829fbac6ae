#pragma once
// Waits: long polls for the front doors (HTTP's ?timeout=, the Durable Task
// protocol's WaitForInstanceStart and WaitForInstanceCompletion), answered
// when the instance gets there, holding no thread meanwhile: each wait is a
// Client::Watch and a timer on the front door's io_context.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/status.hpp"
#include "client/client.hpp"

namespace boost::asio {
class io_context;
}

namespace durable::client {

class Waits {
 public:
  /// What a wait ends with: the row; nullopt when the time ran out (or the
  /// waits closed) first; not_found or unavailable.
  using Done = std::function<void(Result<std::optional<store::InstanceRow>>)>;
  /// What a wait waits for.
  enum class Until {
    finished,  // Completed, Failed or Terminated (a completion notice wakes it)
    started,   // no longer Pending (looked at every 100 ms: no notice says so)
  };
  /// Names a wait, for cancel(); never 0.
  using Ticket = uint64_t;

  Waits(boost::asio::io_context& io, Client& client);
  /// Answers nobody: close() first, while the io_context runs.
  ~Waits();
  Waits(const Waits&) = delete;
  Waits& operator=(const Waits&) = delete;

  /// Calls `done` once, from a thread of the io_context (or this one), when
  /// instance `id` has got to `until` or `timeout` has passed, unless the
  /// wait is cancelled first. Blocks for one look at the row (and, when the
  /// notice reader was quiet, one round trip to place it).
  Ticket wait(const std::string& id, Until until, std::chrono::milliseconds timeout, Done done);
  /// Ends wait `ticket` without calling its `done` (the caller went away);
  /// nothing when it has already ended. Thread-safe.
  void cancel(Ticket ticket);
  /// Ends every outstanding wait at once with nullopt; later waits end at
  /// once too.
  void close();
  /// Waits not yet answered.
  size_t outstanding() const;

 private:
  struct Wait;
  void check(const std::shared_ptr<Wait>& w);
  void answer(const std::shared_ptr<Wait>& w, Result<std::optional<store::InstanceRow>> outcome);
  void end(const std::shared_ptr<Wait>& w);

  boost::asio::io_context& io_;
  Client& client_;
  mutable std::mutex mu_;
  std::unordered_map<Ticket, std::shared_ptr<Wait>> waits_;
  Ticket next_ticket_ = 1;
  bool closed_ = false;
};

}  // namespace durable::client
