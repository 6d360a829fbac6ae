#include "http/waits.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace durable::http {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A wait looks at the row at least this often, whatever the notices say.
constexpr std::chrono::seconds kRecheck{5};

}  // namespace

// Everything but `id`, `deadline` and `done` is touched only on `strand`.
struct Waits::Wait {
  explicit Wait(asio::io_context& io) : strand(asio::make_strand(io)), timer(strand) {}
  std::string id;
  Clock::time_point deadline;
  Done done;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  std::unique_ptr<client::Client::Watch> watch;
  bool answered = false;
};

Waits::Waits(asio::io_context& io, client::Client& client) : io_(io), client_(client) {}

Waits::~Waits() = default;

void Waits::wait(const std::string& id, std::chrono::milliseconds timeout, Done done) {
  auto w = std::make_shared<Wait>(io_);
  w->id = id;
  w->deadline = Clock::now() + timeout;
  w->done = std::move(done);
  bool admitted = false;
  {
    std::lock_guard lock(mu_);
    if (!closed_) admitted = waits_.insert(w).second;
  }
  if (!admitted) return w->done(std::optional<store::InstanceRow>());
  // On the wait's strand, so that the notices it gets wait for it.
  asio::post(w->strand, [this, w] {
    if (w->answered) return;  // closed meanwhile
    std::weak_ptr<Wait> weak = w;
    auto watch = client_.watch(w->id, [this, weak] {
      if (auto w = weak.lock()) asio::post(w->strand, [this, w] { check(w); });
    });
    if (!watch) return answer(w, watch.status());
    w->watch = std::move(*watch);
    check(w);
  });
}

void Waits::check(const std::shared_ptr<Wait>& w) {
  if (w->answered) return;
  auto row = w->watch->look();
  if (!row) return answer(w, row.status());
  if (orchestration::is_terminal(row->status)) return answer(w, std::optional(std::move(*row)));
  const auto now = Clock::now();
  if (now >= w->deadline) return answer(w, std::optional<store::InstanceRow>());
  w->timer.expires_at(std::min(w->deadline, now + kRecheck));  // cancels the last one
  w->timer.async_wait([this, w](const boost::system::error_code& ec) {
    if (!ec) check(w);
  });
}

void Waits::answer(const std::shared_ptr<Wait>& w, Result<std::optional<store::InstanceRow>> outcome) {
  if (w->answered) return;
  w->answered = true;
  w->timer.cancel();
  w->watch.reset();
  {
    std::lock_guard lock(mu_);
    waits_.erase(w);
  }
  w->done(std::move(outcome));
}

void Waits::close() {
  std::unordered_set<std::shared_ptr<Wait>> open;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    open = waits_;
  }
  for (const auto& w : open) {
    asio::post(w->strand, [this, w] { answer(w, std::optional<store::InstanceRow>()); });
  }
}

size_t Waits::outstanding() const {
  std::lock_guard lock(mu_);
  return waits_.size();
}

}  // namespace durable::http
