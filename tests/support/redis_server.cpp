#include "tests/support/redis_server.hpp"

#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <thread>

#include "base/process.hpp"

namespace durable::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous: a cold start plus an AOF replay of test-sized data takes well
// under 100 ms; the margin is for loaded CI machines.
constexpr auto kStartDeadline = seconds(10);
// redis fsyncs the AOF and exits on SIGTERM; anything slower is a hang.
constexpr auto kStopDeadline = seconds(10);
// Between polls: short enough to add no visible latency, long enough not to spin.
constexpr auto kPollInterval = milliseconds(5);
// Another process can grab the picked port before the server binds it; each
// retry picks a fresh port, so more than a few clashes in a row means trouble.
constexpr int kStartAttempts = 5;
// Bytes of the log quoted in error messages: the last screenful.
constexpr std::size_t kLogTailBytes = 2000;

timeval to_timeval(std::chrono::microseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(d.count() % 1000000);
  return tv;
}

// "process_id:1234" from INFO server, or -1.
pid_t parse_process_id(std::string_view info) {
  constexpr std::string_view kKey = "process_id:";
  const auto at = info.find(kKey);
  if (at == std::string_view::npos) return -1;
  return static_cast<pid_t>(std::strtol(info.data() + at + kKey.size(), nullptr, 10));
}

}  // namespace


// ---------------------------------------------------------------- RedisServer

RedisServer::RedisServer(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {}

RedisServer::~RedisServer() {
  (void)stop();
  if (!dir_.empty()) {
    std::error_code ec;  // best effort: a destructor cannot report
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string RedisServer::url() const { return "redis://" + host_ + ":" + std::to_string(port_); }

Status RedisServer::start() {
  if (pid_ != -1) return Status::failed_precondition("redis-server already runs as pid " + std::to_string(pid_));
  if (started_) {
    // Same folder and port as before, so the AOF is replayed.
    bool port_clash = false;
    return launch(port_clash);
  }
  if (dir_.empty()) {
    char tmpl[] = "/tmp/durable-redis-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      return Status::internal(std::string("mkdtemp /tmp/durable-redis-XXXXXX: ") + std::strerror(errno));
    }
    dir_ = tmpl;
  }
  Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    Result<uint16_t> port = pick_free_port();
    if (!port) return port.status();
    port_ = *port;
    bool port_clash = false;
    last = launch(port_clash);
    started_ = last.is_ok();
    if (last || !port_clash) return last;
  }
  return Status(Errc::unavailable, "gave up after " + std::to_string(kStartAttempts) +
                                       " port clashes; last: " + last.message());
}

Status RedisServer::launch(bool& port_clash) {
  port_clash = false;
  SpawnOptions options;
  options.argv = {kBinary,       "--bind",      host_,  "--port",
                  std::to_string(port_),        "--save", "",
                  "--appendonly", "yes",        "--dir",  dir_.string(),
                  "--daemonize",  "no",         "--protected-mode", "no"};
  options.argv.insert(options.argv.end(), extra_args_.begin(), extra_args_.end());
  options.log = log_path();
  // A crashed test binary must leave no server behind.
  options.lifetime = ChildLifetime::die_with_parent;
  Result<pid_t> pid = spawn(options);
  if (!pid) return pid.status();
  pid_ = *pid;
  return wait_until_ready(port_clash);
}

Status RedisServer::wait_until_ready(bool& port_clash) {
  const auto deadline = Clock::now() + kStartDeadline;
  const std::string where = "redis-server on " + host_ + ":" + std::to_string(port_);
  for (;;) {
    int wstatus = 0;
    if (!process_running(pid_, &wstatus)) {
      pid_ = -1;
      const std::string tail = log_tail();
      port_clash = tail.find("Address already in use") != std::string::npos;
      return Status(Errc::unavailable, where + " " + describe_exit(wstatus) +
                                           " before answering PING; log tail:\n" + tail);
    }
    ContextPtr ctx(redisConnectWithTimeout(host_.c_str(), port_, to_timeval(milliseconds(200))));
    if (ctx && ctx->err == 0 && redisSetTimeout(ctx.get(), to_timeval(seconds(1))) == REDIS_OK) {
      // A server started with --requirepass answers nothing before AUTH.
      for (size_t i = 0; i + 1 < extra_args_.size(); ++i) {
        if (extra_args_[i] == "--requirepass") {
          const std::string_view auth[] = {"AUTH", extra_args_[i + 1]};
          command_argv(ctx.get(), auth);
        }
      }
      const std::string_view ping[] = {"PING"};
      ReplyPtr pong = command_argv(ctx.get(), ping);
      // Anything but PONG (e.g. "LOADING" while the AOF is replayed) means: poll again.
      if (pong && pong->type == REDIS_REPLY_STATUS && std::string_view(pong->str, pong->len) == "PONG") {
        const std::string_view info_server[] = {"INFO", "server"};
        ReplyPtr info = command_argv(ctx.get(), info_server);
        const pid_t answered =
            info && info->type == REDIS_REPLY_STRING ? parse_process_id({info->str, info->len}) : -1;
        if (answered == pid_) return Status::ok();
        // Someone else owns the port and our child is about to fail to bind.
        kill();
        port_clash = true;
        return Status(Errc::unavailable, where + ": the port is answered by pid " + std::to_string(answered) +
                                             ", not by our server");
      }
    }
    if (Clock::now() >= deadline) {
      kill();
      return Status(Errc::unavailable, where + " did not answer PING within " +
                                           std::to_string(kStartDeadline.count()) + " s; log tail:\n" +
                                           log_tail());
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status RedisServer::stop() {
  if (pid_ == -1) return Status::ok();
  // redis fsyncs the AOF and exits on SIGTERM.
  Status s = terminate(pid_, kStopDeadline, "redis-server");
  pid_ = -1;
  return s;
}

void RedisServer::kill() {
  if (pid_ == -1) return;
  ::kill(pid_, SIGKILL);
  reap();
}

void RedisServer::reap() {
  int wstatus = 0;
  while (::waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

Status RedisServer::restart() {
  if (!started_) return Status::failed_precondition("restart() before a successful start()");
  if (Status s = stop(); !s && s.code() != Errc::deadline_exceeded) return s;
  return start();
}

bool RedisServer::running() {
  if (pid_ == -1) return false;
  if (!process_running(pid_)) pid_ = -1;
  return pid_ != -1;
}

std::string RedisServer::log_tail() const {
  const std::string text = file_tail(log_path(), kLogTailBytes);
  return text.empty() ? "(log is empty)" : text;
}

Status RedisServer::connect(ContextPtr& out) const {
  ContextPtr ctx(redisConnectWithTimeout(host_.c_str(), port_, to_timeval(seconds(2))));
  if (!ctx) return Status(Errc::unavailable, "cannot allocate a hiredis context");
  if (ctx->err != 0) return Status(Errc::unavailable, "connect to " + url() + ": " + ctx->errstr);
  if (redisSetTimeout(ctx.get(), to_timeval(seconds(5))) != REDIS_OK) {
    return Status(Errc::unavailable, "set timeout on " + url() + ": " + ctx->errstr);
  }
  out = std::move(ctx);
  return Status::ok();
}

// ------------------------------------------------------------------ RedisTest

void RedisTest::SetUpTestSuite() {
  server_ = std::make_unique<RedisServer>();
  server_status_ = server_->start();
}

void RedisTest::TearDownTestSuite() {
  server_.reset();
  server_status_ = Status::ok();
}

void RedisTest::SetUp() {
  ASSERT_TRUE(server_ != nullptr && server_status_.is_ok()) << server_status_.to_string();
  if (!server_->running()) {
    // An earlier test stopped or killed it.
    const Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }
  const Status s = reconnect();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ReplyPtr r = reply("FLUSHALL");
  ASSERT_TRUE(r != nullptr) << "FLUSHALL: " << redis()->errstr;
  ASSERT_EQ(r->type, REDIS_REPLY_STATUS) << std::string(r->str, r->len);
}

void RedisTest::TearDown() { redis_.reset(); }

Status RedisTest::reconnect() {
  redis_.reset();
  return server_->connect(redis_);
}

}  // namespace durable::testing
