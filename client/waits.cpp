#include "client/waits.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace durable::client {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A wait for a finish looks at the row at least this often, whatever the
// notices say; a wait for a start (no notice) this often.
constexpr std::chrono::seconds kRecheck{5};
constexpr std::chrono::milliseconds kStartPoll{100};

bool got_there(Waits::Until until, orchestration::OrchestrationStatus status) {
  if (until == Waits::Until::started) return status != orchestration::OrchestrationStatus::pending;
  return orchestration::is_terminal(status);
}

}  // namespace

// Everything but `ticket`, `id`, `until`, `deadline` and `done` is touched
// only on `strand`.
struct Waits::Wait {
  explicit Wait(asio::io_context& io) : strand(asio::make_strand(io)), timer(strand) {}
  Ticket ticket = 0;
  std::string id;
  Until until = Until::finished;
  Clock::time_point deadline;
  Done done;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  std::unique_ptr<Client::Watch> watch;
  bool answered = false;
};

Waits::Waits(asio::io_context& io, Client& client) : io_(io), client_(client) {}

Waits::~Waits() = default;

Waits::Ticket Waits::wait(const std::string& id, Until until, std::chrono::milliseconds timeout, Done done) {
  auto w = std::make_shared<Wait>(io_);
  w->id = id;
  w->until = until;
  w->deadline = Clock::now() + timeout;
  w->done = std::move(done);
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      w->ticket = next_ticket_++;
      waits_.emplace(w->ticket, w);
    }
  }
  if (w->ticket == 0) {
    w->done(std::optional<store::InstanceRow>());
    return 0;
  }
  // On the wait's strand, so that the notices it gets wait for it.
  asio::post(w->strand, [this, w] {
    if (w->answered) return;  // closed or cancelled meanwhile
    std::weak_ptr<Wait> weak = w;
    auto watch = client_.watch(w->id, [this, weak] {
      if (auto w = weak.lock()) asio::post(w->strand, [this, w] { check(w); });
    });
    if (!watch) return answer(w, watch.status());
    w->watch = std::move(*watch);
    check(w);
  });
  return w->ticket;
}

void Waits::check(const std::shared_ptr<Wait>& w) {
  if (w->answered) return;
  auto row = w->watch->look();
  if (!row) return answer(w, row.status());
  if (got_there(w->until, row->status)) return answer(w, std::optional(std::move(*row)));
  const auto now = Clock::now();
  if (now >= w->deadline) return answer(w, std::optional<store::InstanceRow>());
  const auto next = now + (w->until == Until::started ? Clock::duration(kStartPoll) : Clock::duration(kRecheck));
  w->timer.expires_at(std::min(w->deadline, next));  // cancels the last one
  w->timer.async_wait([this, w](const boost::system::error_code& ec) {
    if (!ec) check(w);
  });
}

void Waits::answer(const std::shared_ptr<Wait>& w, Result<std::optional<store::InstanceRow>> outcome) {
  if (w->answered) return;
  end(w);
  w->done(std::move(outcome));
}

void Waits::end(const std::shared_ptr<Wait>& w) {
  w->answered = true;
  w->timer.cancel();
  w->watch.reset();
  std::lock_guard lock(mu_);
  waits_.erase(w->ticket);
}

void Waits::cancel(Ticket ticket) {
  std::shared_ptr<Wait> w;
  {
    std::lock_guard lock(mu_);
    auto it = waits_.find(ticket);
    if (it == waits_.end()) return;
    w = it->second;
  }
  asio::post(w->strand, [this, w] {
    if (!w->answered) end(w);
  });
}

void Waits::close() {
  std::unordered_map<Ticket, std::shared_ptr<Wait>> open;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    open = waits_;
  }
  for (const auto& [ticket, w] : open) {
    asio::post(w->strand, [this, w] { answer(w, std::optional<store::InstanceRow>()); });
  }
}

size_t Waits::outstanding() const {
  std::lock_guard lock(mu_);
  return waits_.size();
}

}  // namespace durable::client
