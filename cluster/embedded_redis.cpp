#include "cluster/embedded_redis.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "base/guid.hpp"
#include "base/log.hpp"
#include "base/process.hpp"

namespace durable::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using store::RedisConnection;

constexpr const char* kHost = "127.0.0.1";
constexpr const char* kLockFile = "redis.lock";
constexpr const char* kLogFile = "redis.log";
constexpr const char* kPasswordFile = "redis.password";
constexpr const char* kConfigFile = "redis.conf";
// Connect and command timeout of one probe. Loopback answers in well under a
// millisecond; a server that takes a second is stopped or hung, so poll again.
constexpr milliseconds kProbeTimeout{1000};
// Between PING probes: a fresh server needs ~10 ms to bind, so this adds
// little latency without busy-looping.
constexpr milliseconds kPollInterval{20};
// Another process can grab the picked port before the server binds it; each
// retry picks a fresh port, so more than a few clashes in a row means trouble.
constexpr int kStartAttempts = 5;
// Redis 7 preallocates a stream's first node up to this size (default 4 KB):
// every instance has two small streams (history and inbox), so 4 KB each
// costs memory and a fresh allocation per new instance. 256 bytes still
// holds a few entries per node.
constexpr const char* kStreamNodeMaxBytes = "256";
// Bytes of redis.log quoted in error messages: the last screenful.
constexpr std::size_t kLogTailBytes = 2000;

std::shared_ptr<spdlog::logger> redis_log() { return durable::logger("redis"); }

std::string errno_text() { return std::strerror(errno); }

std::string in_quotes(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// "process_id:1234" from INFO server, or -1.
pid_t parse_process_id(std::string_view info) {
  constexpr std::string_view kKey = "process_id:";
  const auto at = info.find(kKey);
  if (at == std::string_view::npos) return -1;
  return static_cast<pid_t>(std::strtol(info.data() + at + kKey.size(), nullptr, 10));
}

// What one probe of the expected server found.
enum class Probe {
  ready,         // it answered PING as the expected pid
  not_yet,       // nothing listens yet, it is LOADING, or it did not answer in time
  someone_else,  // another process answers on the port
};

// One probe: connect, PING, INFO server. `why` says what was wrong if not ready.
Probe probe_server(const store::RedisAddress& address, pid_t pid, Status& why) {
  auto conn = RedisConnection::connect(address, kProbeTimeout);
  if (!conn) {
    why = conn.status();
    return Probe::not_yet;
  }
  auto pong = conn->command("PING");
  if (!pong) {
    why = pong.status();
    // LOADING maps to unavailable on a healthy connection; an I/O error breaks it.
    const bool retry = conn->broken() || why.code() == Errc::unavailable;
    return retry ? Probe::not_yet : Probe::someone_else;
  }
  auto info = conn->command("INFO", "server");
  if (!info) {
    why = info.status();
    return Probe::not_yet;
  }
  auto text = store::as_string(**info);
  const pid_t answered = text ? parse_process_id(*text) : -1;
  if (answered == pid) return Probe::ready;
  why = Status(Errc::unavailable, "the port is answered by pid " + std::to_string(answered));
  return Probe::someone_else;
}

// CONFIG GET <name> on a RESP2 server: ["name", "value"].
Result<std::string> config_get(RedisConnection& conn, const std::string& name) {
  auto reply = conn.command("CONFIG", "GET", name);
  if (!reply) return reply.status();
  auto pair = store::as_array(**reply, 2);
  if (!pair) return pair.status();
  return store::as_string(*(*pair)[1]);
}

// Sets a config parameter unless it already has `value`.
Status ensure_config(RedisConnection& conn, const std::string& name, const std::string& value) {
  auto current = config_get(conn, name);
  if (!current) return current.status();
  if (*current == value) return Status::ok();
  auto set = conn.command("CONFIG", "SET", name, value);
  if (!set) return set.status();
  redis_log()->info("adopted redis-server: {} changed from {} to {}", name, *current, value);
  return Status::ok();
}

// Writes `text` to `path` via a temp file, fsync and rename, so readers see
// the old or the new content, never a mix, even after a power cut.
Status write_file_atomically(const std::filesystem::path& path, const std::string& text, mode_t mode = 0600) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  const auto fail = [&](const std::string& what) {
    return Status::failed_precondition("cannot write " + in_quotes(path) + " (" + what + "): " + errno_text());
  };
  ::unlink(tmp.c_str());  // a leftover may have looser permissions
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail("open " + tmp.string());
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return fail("write");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  // Make the rename itself durable.
  if (const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::ok();
}

template <class Int>
bool parse_int(std::string_view text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The folder and everything in it: its user's alone (folders 0700, files 0600).
void make_private(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const bool folder = it->is_directory(ec);
    fs::permissions(it->path(), folder ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace, ec);
    ec.clear();
  }
}

// Two random GUIDs: 64 hex digits holding 244 random bits from the CSPRNG.
std::string new_password() { return random_guid() + random_guid(); }

void remove_record(const std::filesystem::path& dir) {
  std::error_code ec;  // best effort: a missing record is what we want anyway
  std::filesystem::remove(ServerRecord::path(dir), ec);
}

}  // namespace

// -- Fsync ----------------------------------------------------------------------

std::string_view fsync_name(Fsync fsync) {
  switch (fsync) {
    case Fsync::everysec: return "everysec";
    case Fsync::always: return "always";
  }
  return "everysec";
}

Result<Fsync> parse_fsync(std::string_view text) {
  if (text == "everysec") return Fsync::everysec;
  if (text == "always") return Fsync::always;
  return Status::invalid_argument("fsync mode \"" + std::string(text) + "\": expected everysec or always");
}

// -- ServerRecord ---------------------------------------------------------------

std::filesystem::path ServerRecord::path(const std::filesystem::path& data_dir) { return data_dir / "redis.state"; }

Result<ServerRecord> ServerRecord::read(const std::filesystem::path& data_dir) {
  const std::filesystem::path file = path(data_dir);
  std::ifstream in(file);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return Status::not_found("no " + in_quotes(file));
    return Status::corruption("cannot read " + in_quotes(file));
  }
  ServerRecord record;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string_view key = std::string_view(line).substr(0, eq);
    const std::string_view value = std::string_view(line).substr(eq + 1);
    if (key == "pid" && !parse_int(value, record.pid)) record.pid = -1;
    if (key == "port" && !parse_int(value, record.port)) record.port = 0;
  }
  // pid 0, 1 or negative would make kill() address a group or init.
  if (record.pid <= 1 || record.port == 0) {
    return Status::corruption(in_quotes(file) + " lacks a valid pid and port");
  }
  return record;
}

Status ServerRecord::write(const std::filesystem::path& data_dir) const {
  const std::string text = "# the redis-server serving this folder (durable; removed at a clean stop)\npid=" +
                           std::to_string(pid) + "\nport=" + std::to_string(port) + "\n";
  return write_file_atomically(path(data_dir), text);
}

// -- EmbeddedRedis: start -------------------------------------------------------

EmbeddedRedis::EmbeddedRedis(Passkey, const EmbeddedRedisOptions& options) : options_(options) {
  address_.host = kHost;
  address_.port = 0;
}

Result<std::unique_ptr<EmbeddedRedis>> EmbeddedRedis::start(const EmbeddedRedisOptions& options) {
  if (::access(options.binary.c_str(), X_OK) != 0) {
    return Status::failed_precondition("redis-server binary " + in_quotes(options.binary) +
                                       " is missing or not executable (" + errno_text() +
                                       "): install redis-server or give the node a redis URL");
  }
  // On failure below, the destructor stops whatever was started and unlocks.
  auto self = std::make_unique<EmbeddedRedis>(Passkey{}, options);
  if (Status s = self->open_folder(); !s) return s;
  Result<bool> adopted = self->adopt_recorded_server();
  if (!adopted) return adopted.status();
  if (!*adopted) {
    if (Status s = self->launch_fresh(); !s) return s;
  }
  return Result<std::unique_ptr<EmbeddedRedis>>(std::move(self));
}

Status EmbeddedRedis::open_folder() {
  const std::string named = "data folder " + in_quotes(options_.data_dir);
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) return Status::failed_precondition("cannot create " + named + ": " + ec.message());
  dir_ = std::filesystem::canonical(options_.data_dir, ec);
  if (ec) return Status::failed_precondition("cannot resolve " + named + ": " + ec.message());
  // Write a file rather than ask access(): root passes access() even on a
  // read-only mount.
  const std::filesystem::path probe = dir_ / ".write-probe";
  const int probe_fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (probe_fd < 0) return Status::failed_precondition(named + " is not writable: " + errno_text());
  ::close(probe_fd);
  ::unlink(probe.c_str());

  const std::filesystem::path lock = dir_ / kLockFile;
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Status::failed_precondition("cannot open " + in_quotes(lock) + ": " + errno_text());
  // Two nodes on one folder would each run a server on the same AOF.
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string why = errno == EWOULDBLOCK ? "it is in use by another durable node" : errno_text();
    unlock();
    return Status::failed_precondition("cannot lock " + named + ": " + why);
  }
  make_private(dir_);
  return ensure_password();
}

Status EmbeddedRedis::ensure_password() {
  auto existing = read_password(dir_);
  if (existing) {
    address_.password = *existing;
    return Status::ok();
  }
  address_.password = new_password();
  return write_file_atomically(dir_ / kPasswordFile, address_.password + "\n");
}

Result<std::string> EmbeddedRedis::read_password(const std::filesystem::path& data_dir) {
  std::ifstream in(data_dir / kPasswordFile);
  std::string password;
  if (!in || !std::getline(in, password) || password.empty()) {
    return Status::not_found("no password in " + in_quotes(data_dir / kPasswordFile));
  }
  return password;
}

Result<bool> EmbeddedRedis::adopt_recorded_server() {
  Result<ServerRecord> record = ServerRecord::read(dir_);
  if (!record) {
    if (record.status().code() != Errc::not_found) {
      redis_log()->warn("ignoring the server record: {}", record.status().message());
    }
    return false;
  }
  const pid_t pid = record->pid;
  if (!process_running(pid)) {
    redis_log()->info("recorded redis-server pid {} for {} is gone; starting a fresh one (it replays the AOF)",
                      pid, dir_.string());
    return false;
  }
  if (!serves_this_folder(pid)) {
    redis_log()->warn("recorded pid {} is not a redis-server in {} (\"{}\"); leaving it alone, starting a fresh one",
                      pid, dir_.string(), process_command_line(pid));
    return false;
  }
  const Status adopted = adopt(*record);
  if (adopted) return true;
  redis_log()->warn("cannot adopt redis-server pid {} for {}: {}; stopping it", pid, dir_.string(),
                    adopted.message());
  pid_ = -1;
  if (Status s = stop_leftover(pid); !s) return s;
  return false;
}

bool EmbeddedRedis::serves_this_folder(pid_t pid) const {
  const std::string cmdline = process_command_line(pid);
  const std::string binary_name = std::filesystem::path(options_.binary).filename().string();
  const bool is_redis = cmdline.find("redis-server") != std::string::npos ||
                        (!binary_name.empty() && cmdline.find(binary_name) != std::string::npos);
  // redis chdir()s into --dir, so its cwd tells which folder it serves.
  return is_redis && process_cwd(pid) == dir_;
}

Status EmbeddedRedis::stop_leftover(pid_t pid) {
  // A server on this folder that we cannot use must go before a fresh one
  // opens the same AOF.
  if (!process_running(pid)) return Status::ok();
  const Status stopped = terminate(pid, options_.stop_timeout, "redis-server");
  if (!process_running(pid)) return Status::ok();
  return Status(Errc::unavailable, "cannot replace the redis-server for " + in_quotes(dir_) + ": " + stopped.message());
}

Status EmbeddedRedis::adopt(const ServerRecord& record) {
  pid_ = record.pid;
  address_.port = record.port;
  bool port_clash = false;
  // A server started before folders had passwords refuses AUTH: once it
  // answers (it may still be loading), it gets the folder's password.
  bool without_password = false;
  for (const auto deadline = Clock::now() + options_.start_timeout;;) {
    auto probe = RedisConnection::connect(address_, kProbeTimeout);
    without_password =
        !probe && probe.status().message().find("without any password configured") != std::string::npos;
    // Answered (either way), gone, or out of time: wait_until_ready says which.
    if (probe || without_password || !process_running(pid_) || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);  // not listening yet
  }
  if (without_password) {
    const std::string password = std::exchange(address_.password, std::string());
    Status ready = wait_until_ready(port_clash);
    store::RedisAddress open = address_;
    address_.password = password;
    if (!ready) return ready;
    auto conn = RedisConnection::connect(open, kProbeTimeout);
    if (!conn) return conn.status();
    if (auto set = conn->command("CONFIG", "SET", "requirepass", password); !set) return set.status();
    redis_log()->info("adopted redis-server pid {} had no password: it has the folder's now", pid_);
  }
  if (Status s = wait_until_ready(port_clash); !s) return s;
  auto conn = RedisConnection::connect(address_, kProbeTimeout);
  if (!conn) return conn.status();
  auto dir = config_get(*conn, "dir");
  if (!dir) return dir.status();
  if (std::filesystem::path(*dir) != dir_) return Status(Errc::failed_precondition, "it serves " + in_quotes(*dir));
  if (Status s = ensure_config(*conn, "appendonly", "yes"); !s) return s;
  if (Status s = ensure_config(*conn, "appendfsync", std::string(fsync_name(options_.fsync))); !s) return s;
  if (Status s = ensure_config(*conn, "stream-node-max-bytes", kStreamNodeMaxBytes); !s) return s;
  reused_ = true;
  redis_log()->info("adopted {} (appendfsync {})", describe(), fsync_name(options_.fsync));
  return Status::ok();
}

Status EmbeddedRedis::launch_fresh() {
  Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    Result<uint16_t> port = pick_free_port();
    if (!port) return port.status();
    bool port_clash = false;
    last = launch_on(*port, port_clash);
    if (last || !port_clash) return last;
    redis_log()->info("port {} was taken before redis-server bound it; trying another", *port);
  }
  return Status(Errc::unavailable,
                "gave up after " + std::to_string(kStartAttempts) + " port clashes; last: " + last.message());
}

Status EmbeddedRedis::launch_on(uint16_t port, bool& port_clash) {
  address_.port = port;
  // The password goes in the config file, never on the command line.
  const std::filesystem::path config = dir_ / kConfigFile;
  if (Status s = write_file_atomically(config, "# written by durable at each start\nrequirepass " +
                                                   address_.password + "\n");
      !s) {
    return s;
  }
  SpawnOptions spawn_options;
  spawn_options.private_files = true;
  spawn_options.argv = {options_.binary, config.string(), "--bind", kHost, "--port", std::to_string(port),
                        "--save", "", "--appendonly", "yes", "--appendfsync", std::string(fsync_name(options_.fsync)),
                        "--dir", dir_.string(), "--daemonize", "no", "--stream-node-max-bytes", kStreamNodeMaxBytes};
  spawn_options.log = dir_ / kLogFile;
  // Outlives a crashed node, ignores the node's Ctrl-C: see the header.
  spawn_options.lifetime = ChildLifetime::own_session;
  Result<pid_t> pid = spawn(spawn_options);
  if (!pid) return pid.status();
  pid_ = *pid;
  // Record before waiting: a crash from here on must not leave an unknown
  // server on this folder's AOF.
  Status s = ServerRecord{pid_, port}.write(dir_);
  if (s) s = wait_until_ready(port_clash);
  if (!s) {
    if (pid_ != -1) (void)terminate(pid_, options_.stop_timeout, "redis-server");
    pid_ = -1;
    remove_record(dir_);
    return Status(s.code(), s.message() + "; log tail of " + in_quotes(dir_ / kLogFile) + ":\n" + log_tail());
  }
  redis_log()->info("started {} (appendfsync {})", describe(), fsync_name(options_.fsync));
  return Status::ok();
}

Status EmbeddedRedis::wait_until_ready(bool& port_clash) {
  port_clash = false;
  const auto deadline = Clock::now() + options_.start_timeout;
  Status why(Errc::unavailable, "no answer yet");
  for (;;) {
    int wstatus = -1;  // stays -1 unless we reaped our child
    if (!process_running(pid_, &wstatus)) {
      const std::string where = describe();
      pid_ = -1;
      port_clash = log_tail().find("Address already in use") != std::string::npos;
      const std::string how = wstatus == -1 ? "exited" : describe_exit(wstatus);
      return Status(Errc::unavailable, where + " " + how + " before answering PING");
    }
    if (const Probe p = probe_server(address_, pid_, why); p != Probe::not_yet) {
      if (p == Probe::ready) return Status::ok();
      port_clash = true;
      return Status(Errc::unavailable, describe() + ": " + why.message());
    }
    if (Clock::now() >= deadline) {
      return Status(Errc::unavailable, describe() + " did not answer PING within " +
                                           std::to_string(options_.start_timeout.count()) + " ms (last: " +
                                           why.message() + ")");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// -- EmbeddedRedis: stop --------------------------------------------------------

EmbeddedRedis::~EmbeddedRedis() {
  if (Status s = stop(); !s) redis_log()->error("stopping redis-server for {}: {}", dir_.string(), s.to_string());
}

Status EmbeddedRedis::stop() {
  end_watch();
  std::lock_guard lock(mu_);
  Status s;
  if (pid_ != -1) s = shut_down();
  pid_ = -1;
  unlock();
  return s;
}

// -- EmbeddedRedis: supervision -------------------------------------------------

void EmbeddedRedis::supervise(std::function<void(const Status&)> gave_up, milliseconds first_retry) {
  watcher_ = std::thread([this, gave_up = std::move(gave_up), first_retry] { watch(gave_up, first_retry); });
}

int EmbeddedRedis::restarts() const {
  std::lock_guard lock(mu_);
  return restarts_;
}

void EmbeddedRedis::end_watch() {
  {
    std::lock_guard lock(mu_);
    watch_stopping_ = true;
  }
  watch_wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void EmbeddedRedis::watch(std::function<void(const Status&)> gave_up, milliseconds first_retry) {
  constexpr milliseconds kCheckEvery{200};
  std::unique_lock lock(mu_);
  while (!watch_stopping_) {
    watch_wake_.wait_for(lock, kCheckEvery, [&] { return watch_stopping_; });
    if (watch_stopping_ || pid_ == -1) return;
    int wstatus = -1;
    if (process_running(pid_, &wstatus)) continue;  // reaps it if it is our child
    // Gone: the AOF is free, and nothing acknowledged is lost (a fresh
    // server replays it), so start another on the same port.
    redis_log()->error("{} {}; starting it again on the same folder", describe(),
                       wstatus == -1 ? "is gone" : describe_exit(wstatus));
    const uint16_t port = address_.port;
    pid_ = -1;
    Status last;
    milliseconds delay = first_retry;
    for (int attempt = 1; attempt <= kMaxRestarts && !watch_stopping_; ++attempt) {
      bool port_clash = false;
      last = launch_on(port, port_clash);
      if (last) {
        ++restarts_;
        break;
      }
      redis_log()->warn("start {} of {} failed: {}", attempt, kMaxRestarts, last.message());
      if (attempt < kMaxRestarts) watch_wake_.wait_for(lock, delay, [&] { return watch_stopping_; });
      delay *= 2;
    }
    if (watch_stopping_) return;
    if (!last) {
      const Status why(Errc::unavailable, "the embedded redis-server for " + dir_.string() + " failed to start " +
                                              std::to_string(kMaxRestarts) + " times in a row; last: " +
                                              last.message());
      redis_log()->error("{}", why.message());
      lock.unlock();
      gave_up(why);
      return;
    }
  }
}

Status EmbeddedRedis::shut_down() {
  const std::string who = describe();
  if (!process_running(pid_)) {
    redis_log()->warn("{} had already exited", who);
    remove_record(dir_);
    return Status::ok();
  }
  bool requested = false;
  if (auto conn = RedisConnection::connect(address_, kProbeTimeout)) {
    auto reply = conn->command("SHUTDOWN");
    // Success closes the connection (an I/O error); an error reply is a refusal.
    if (!reply && !conn->broken()) {
      redis_log()->warn("{} refused SHUTDOWN: {}; leaving it running", who, reply.status().message());
      return Status::failed_precondition(who + " refused SHUTDOWN (" + reply.status().message() +
                                         "); it keeps running and the next start on the folder adopts it");
    }
    requested = true;
  }
  // redis treats SIGTERM as SHUTDOWN: the fallback when it cannot be reached.
  if (!requested) ::kill(pid_, SIGTERM);
  if (!wait_for_exit(pid_, options_.stop_timeout)) {
    // Keep the record if even SIGKILL failed: the next start must find it.
    if (kill_and_wait(pid_)) remove_record(dir_);
    return Status(Errc::deadline_exceeded, who + " did not exit within " +
                                               std::to_string(options_.stop_timeout.count()) + " ms; killed it");
  }
  remove_record(dir_);
  redis_log()->info("stopped {}", who);
  return Status::ok();
}

void EmbeddedRedis::TEST_abandon() {
  end_watch();
  std::lock_guard lock(mu_);
  pid_ = -1;
  unlock();
}

// -- EmbeddedRedis: helpers -----------------------------------------------------

std::string EmbeddedRedis::describe() const {
  return "redis-server pid " + std::to_string(pid_) + " on " + address_.to_string() + " (dir " + dir_.string() + ")";
}

std::string EmbeddedRedis::log_tail() const {
  const std::string text = file_tail(dir_ / kLogFile, kLogTailBytes);
  return text.empty() ? "(redis.log is empty)" : text;
}

void EmbeddedRedis::unlock() {
  if (lock_fd_ == -1) return;
  ::close(lock_fd_);  // releases the flock
  lock_fd_ = -1;
}

}  // namespace durable::cluster
