// The embedded redis-server on a real binary in temp folders: persistence
// across stop/start, adoption after a node crash, stale and foreign records,
// a hung leftover server, fsync modes, and the refusals.

#include "cluster/embedded_redis.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/process.hpp"

namespace durable::cluster_test {
namespace {

using namespace std::chrono_literals;
using cluster::EmbeddedRedisOptions;
using cluster::Fsync;
using cluster::ServerRecord;
// The suite is called EmbeddedRedis, so inside the tests that name means the fixture.
using Server = cluster::EmbeddedRedis;
using ServerPtr = std::unique_ptr<Server>;

class EmbeddedRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/durable-embedded-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }

  // Tests end with their servers stopped; this catches what a failed test left.
  void TearDown() override {
    for (const pid_t pid : pids_) {
      if (process_running(pid)) {
        ADD_FAILURE() << "pid " << pid << " (" << process_command_line(pid) << ") was left running";
        kill_and_wait(pid);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  EmbeddedRedisOptions options(Fsync fsync = Fsync::everysec) const {
    EmbeddedRedisOptions o;
    o.data_dir = root_ / "data";
    o.fsync = fsync;
    return o;
  }

  // Starts a server (failing the test if it cannot) and remembers its pid for TearDown.
  ServerPtr start(const EmbeddedRedisOptions& o) {
    auto r = Server::start(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r) return nullptr;
    pids_.push_back((*r)->pid());
    return std::move(r).value();
  }
  ServerPtr start() { return start(options()); }

  // Remembers a pid the test started itself, so TearDown kills it if needed.
  void track(pid_t pid) { pids_.push_back(pid); }

  static store::RedisConnection connect(const Server& server) {
    auto c = store::RedisConnection::connect(server.address(), 2s);
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return std::move(c).value();
  }

  static void put(const Server& server, const std::string& key, const std::string& value) {
    auto conn = connect(server);
    auto r = conn.command("SET", key, value);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }

  static std::string get(const Server& server, const std::string& key) {
    auto conn = connect(server);
    auto r = conn.command("GET", key);
    if (!r) return "<" + r.status().to_string() + ">";
    if (store::is_nil(**r)) return "<nil>";
    return store::as_string(**r).value();
  }

  static std::string config(const Server& server, const std::string& name) {
    auto conn = connect(server);
    auto r = conn.command("CONFIG", "GET", name);
    if (!r) return "<" + r.status().to_string() + ">";
    auto pair = store::as_array(**r, 2);
    return pair ? store::as_string(*(*pair)[1]).value() : "<" + pair.status().to_string() + ">";
  }

  // A pid that existed a moment ago and is now gone.
  static pid_t dead_pid() {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    return pid;
  }

  static uint16_t free_port() { return pick_free_port().value(); }

  std::filesystem::path root_;

 private:
  std::vector<pid_t> pids_;
};

TEST_F(EmbeddedRedis, FreshStart_ConfiguredForDurabilityInItsOwnSession) {
  ServerPtr redis = start();
  ASSERT_TRUE(redis);
  EXPECT_FALSE(redis->reused());
  EXPECT_EQ(redis->data_dir(), std::filesystem::canonical(root_ / "data"));
  EXPECT_EQ(redis->address().host, "127.0.0.1");
  EXPECT_EQ(config(*redis, "appendonly"), "yes");
  EXPECT_EQ(config(*redis, "appendfsync"), "everysec");
  EXPECT_EQ(config(*redis, "save"), "");
  EXPECT_EQ(config(*redis, "dir"), redis->data_dir().string());
  // Small first nodes for the many small streams (two per instance).
  EXPECT_EQ(config(*redis, "stream-node-max-bytes"), "256");
  // Its own session: a Ctrl-C to the node's terminal does not reach it.
  EXPECT_EQ(::getsid(redis->pid()), redis->pid());
  const auto record = ServerRecord::read(redis->data_dir());
  ASSERT_TRUE(record.is_ok()) << record.status().to_string();
  EXPECT_EQ(record->pid, redis->pid());
  EXPECT_EQ(record->port, redis->address().port);
  EXPECT_TRUE(std::filesystem::exists(redis->data_dir() / "redis.log"));

  const pid_t pid = redis->pid();
  EXPECT_TRUE(redis->stop().is_ok());
  EXPECT_FALSE(process_running(pid));
  EXPECT_EQ(ServerRecord::read(root_ / "data").status().code(), Errc::not_found);
}

TEST_F(EmbeddedRedis, StopThenStartAgain_DataSurvives) {
  ServerPtr first = start();
  ASSERT_TRUE(first);
  put(*first, "k", "v");
  ASSERT_TRUE(first->stop().is_ok());
  first.reset();

  ServerPtr second = start();
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->reused());
  EXPECT_EQ(get(*second, "k"), "v");
  EXPECT_TRUE(second->stop().is_ok());
}

TEST_F(EmbeddedRedis, StopTwice_SecondIsNoOp) {
  ServerPtr redis = start();
  ASSERT_TRUE(redis);
  EXPECT_TRUE(redis->stop().is_ok());
  EXPECT_EQ(redis->pid(), -1);
  EXPECT_TRUE(redis->stop().is_ok());
}

TEST_F(EmbeddedRedis, NodeAbandonsServer_NextStartAdoptsIt) {
  ServerPtr first = start();
  ASSERT_TRUE(first);
  const pid_t pid = first->pid();
  const uint16_t port = first->address().port;
  put(*first, "k", "v");
  first->TEST_abandon();
  first.reset();  // stops nothing now
  ASSERT_TRUE(process_running(pid));

  ServerPtr second = start();
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->reused());
  EXPECT_EQ(second->pid(), pid);
  EXPECT_EQ(second->address().port, port);
  EXPECT_EQ(get(*second, "k"), "v");
  EXPECT_TRUE(second->stop().is_ok());
  EXPECT_FALSE(process_running(pid));
}

// The real thing: a node process SIGKILLed; its server is no longer our child.
TEST_F(EmbeddedRedis, NodeProcessKilled_ServerOutlivesItAndIsAdopted) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const EmbeddedRedisOptions o = options();
  const pid_t node = ::fork();
  ASSERT_GE(node, 0);
  if (node == 0) {  // the "node": no gtest assertions in here
    ::close(pipe_fds[0]);
    auto r = Server::start(o);
    pid_t server = -1;
    if (r) {
      auto conn = store::RedisConnection::connect((*r)->address(), 2s);
      if (conn && conn->command("SET", "k", "v")) server = (*r)->pid();
    }
    (void)!::write(pipe_fds[1], &server, sizeof server);
    ::raise(SIGKILL);
    ::_exit(1);
  }
  ::close(pipe_fds[1]);
  pid_t server = -1;
  const bool got_pid = ::read(pipe_fds[0], &server, sizeof server) == static_cast<ssize_t>(sizeof server);
  ::close(pipe_fds[0]);
  int wstatus = 0;
  ::waitpid(node, &wstatus, 0);
  ASSERT_TRUE(got_pid && server > 0) << "the node failed to start its server";
  track(server);
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << describe_exit(wstatus);
  ASSERT_TRUE(process_running(server));

  ServerPtr redis = start(o);
  ASSERT_TRUE(redis);
  EXPECT_TRUE(redis->reused());
  EXPECT_EQ(redis->pid(), server);
  EXPECT_EQ(get(*redis, "k"), "v");
  EXPECT_TRUE(redis->stop().is_ok());
  EXPECT_FALSE(process_running(server));
}

// A leftover server that is still replaying a large AOF answers -LOADING;
// start() must wait for it rather than take it for a broken server.
TEST_F(EmbeddedRedis, RecordedServerStillLoading_WaitedForAndAdopted) {
  constexpr int kKeys = 300000;  // ~25 MB: replaying it takes long enough to be caught loading
  const std::filesystem::path dir = root_ / "data";
  std::filesystem::create_directories(dir);
  const uint16_t port = free_port();
  const auto run_redis = [&] {
    SpawnOptions o;
    o.argv = {"/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", std::to_string(port), "--save", "",
              "--appendonly", "yes", "--dir", dir.string(), "--enable-debug-command", "local"};
    o.log = dir / "redis.log";
    const pid_t pid = spawn(o).value();
    track(pid);
    return pid;
  };
  store::RedisAddress address;
  address.port = port;
  const auto command = [&](const auto&... args) {
    for (;;) {  // until the server answers with anything but LOADING or a refused connection
      auto conn = store::RedisConnection::connect(address, 5s);
      if (!conn) continue;
      auto r = conn->command(args...);
      if (r || r.status().message().rfind("LOADING", 0) != 0) return r;
    }
  };

  // Fill an AOF with kKeys keys (the rewrite puts them into its RDB base file).
  const pid_t filler = run_redis();
  ASSERT_TRUE(command("DEBUG", "POPULATE", std::to_string(kKeys)).is_ok());
  ASSERT_TRUE(command("BGREWRITEAOF").is_ok());
  while (store::as_string(*command("INFO", "persistence").value()).value().find("aof_rewrite_in_progress:0") ==
         std::string::npos) {
    std::this_thread::sleep_for(10ms);
  }
  (void)command("SHUTDOWN");
  ASSERT_TRUE(wait_for_exit(filler, 10s));

  // A server from an "earlier node run", caught while it replays the AOF.
  const pid_t loading = run_redis();
  ASSERT_TRUE((ServerRecord{loading, port}.write(dir).is_ok()));
  bool seen_loading = false;
  for (auto until = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < until;) {
    auto conn = store::RedisConnection::connect(address, 1s);
    if (!conn) continue;
    auto pong = conn->command("PING");
    seen_loading = !pong && pong.status().message().rfind("LOADING", 0) == 0;
    if (seen_loading || pong) break;
  }
  if (!seen_loading) {
    kill_and_wait(loading);
    GTEST_SKIP() << "the AOF loaded too fast to be caught loading";
  }

  ServerPtr redis = start();
  ASSERT_TRUE(redis);
  EXPECT_TRUE(redis->reused());
  EXPECT_EQ(redis->pid(), loading);
  auto conn = connect(*redis);
  EXPECT_EQ(store::as_integer(*conn.command("DBSIZE").value()).value(), kKeys);
  EXPECT_TRUE(redis->stop().is_ok());
  EXPECT_FALSE(process_running(loading));
}

TEST_F(EmbeddedRedis, AdoptedWithOtherFsync_ConfigFollowsTheOption) {
  ServerPtr first = start(options(Fsync::everysec));
  ASSERT_TRUE(first);
  ASSERT_TRUE(connect(*first).command("CONFIG", "SET", "stream-node-max-bytes", "4096"));
  first->TEST_abandon();

  ServerPtr second = start(options(Fsync::always));
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->reused());
  EXPECT_EQ(config(*second, "appendfsync"), "always");
  EXPECT_EQ(config(*second, "stream-node-max-bytes"), "256");
  EXPECT_TRUE(second->stop().is_ok());
}

TEST_F(EmbeddedRedis, FsyncAlways_VisibleInConfig) {
  ServerPtr redis = start(options(Fsync::always));
  ASSERT_TRUE(redis);
  EXPECT_EQ(config(*redis, "appendfsync"), "always");
  EXPECT_TRUE(redis->stop().is_ok());
}

TEST_F(EmbeddedRedis, StaleRecordWithDeadPid_StartsFresh) {
  std::filesystem::create_directories(root_ / "data");
  const pid_t dead = dead_pid();
  ASSERT_TRUE((ServerRecord{dead, free_port()}.write(root_ / "data").is_ok()));

  ServerPtr redis = start();
  ASSERT_TRUE(redis);
  EXPECT_FALSE(redis->reused());
  EXPECT_NE(redis->pid(), dead);
  EXPECT_EQ(ServerRecord::read(root_ / "data")->pid, redis->pid());
  EXPECT_TRUE(redis->stop().is_ok());
}

TEST_F(EmbeddedRedis, CorruptRecord_IgnoredAndStartsFresh) {
  std::filesystem::create_directories(root_ / "data");
  std::ofstream(ServerRecord::path(root_ / "data")) << "pid=0\nport=banana\n";

  ServerPtr redis = start();
  ASSERT_TRUE(redis);
  EXPECT_FALSE(redis->reused());
  EXPECT_TRUE(redis->stop().is_ok());
}

// After a reboot the recorded pid may belong to anything: never kill it.
TEST_F(EmbeddedRedis, RecordedPidIsNotRedis_LeftAloneAndRecordReplaced) {
  std::filesystem::create_directories(root_ / "data");
  SpawnOptions sleeper;
  sleeper.argv = {"/bin/sleep", "60"};
  sleeper.log = root_ / "sleep.log";
  const pid_t sleep_pid = spawn(sleeper).value();
  track(sleep_pid);
  ASSERT_TRUE((ServerRecord{sleep_pid, free_port()}.write(root_ / "data").is_ok()));

  ServerPtr redis = start();
  ASSERT_TRUE(redis);
  EXPECT_FALSE(redis->reused());
  EXPECT_TRUE(process_running(sleep_pid));
  EXPECT_EQ(ServerRecord::read(root_ / "data")->pid, redis->pid());
  EXPECT_TRUE(redis->stop().is_ok());
  EXPECT_TRUE(process_running(sleep_pid));
  kill_and_wait(sleep_pid);
}

// A leftover server on this folder that does not answer must not share the AOF
// with a fresh one: it is killed. What it had written to the AOF survives.
TEST_F(EmbeddedRedis, HungServerForThisFolder_KilledAndReplaced) {
  ServerPtr first = start();
  ASSERT_TRUE(first);
  const pid_t hung = first->pid();
  put(*first, "k", "v");
  first->TEST_abandon();
  ASSERT_EQ(::kill(hung, SIGSTOP), 0);

  EmbeddedRedisOptions o = options();
  o.start_timeout = 1s;
  o.stop_timeout = 1s;
  ServerPtr second = start(o);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->reused());
  EXPECT_NE(second->pid(), hung);
  EXPECT_FALSE(process_running(hung));
  EXPECT_EQ(get(*second, "k"), "v");
  EXPECT_TRUE(second->stop().is_ok());
}

TEST_F(EmbeddedRedis, FolderInUse_SecondStartRefused) {
  ServerPtr first = start();
  ASSERT_TRUE(first);

  auto second = Server::start(options());
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), Errc::failed_precondition);
  EXPECT_NE(second.status().message().find("in use by another durable node"), std::string::npos)
      << second.status().message();
  EXPECT_TRUE(first->stop().is_ok());
}

// Works as root too: no permission bit stops root, a file in the path does.
TEST_F(EmbeddedRedis, FolderBelowAFile_RefusedNamingTheFolder) {
  std::ofstream(root_ / "file") << "x";
  EmbeddedRedisOptions o = options();
  o.data_dir = root_ / "file" / "data";

  auto r = Server::start(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::failed_precondition);
  EXPECT_NE(r.status().message().find(o.data_dir.string()), std::string::npos) << r.status().message();
}

TEST_F(EmbeddedRedis, ReadOnlyFolder_RefusedNamingTheFolder) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
  std::filesystem::create_directories(root_ / "data");
  ::chmod((root_ / "data").c_str(), 0555);

  auto r = Server::start(options());
  ::chmod((root_ / "data").c_str(), 0755);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::failed_precondition);
  EXPECT_NE(r.status().message().find("not writable"), std::string::npos) << r.status().message();
}

TEST_F(EmbeddedRedis, MissingBinary_RefusedNamingTheBinary) {
  EmbeddedRedisOptions o = options();
  o.binary = (root_ / "no-such-redis-server").string();

  auto r = Server::start(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::failed_precondition);
  EXPECT_NE(r.status().message().find(o.binary), std::string::npos) << r.status().message();
  EXPECT_FALSE(std::filesystem::exists(root_ / "data"));
}

TEST_F(EmbeddedRedis, ParseFsync_AcceptsRedisSpellingsOnly) {
  EXPECT_EQ(cluster::parse_fsync("always").value(), Fsync::always);
  EXPECT_EQ(cluster::parse_fsync("everysec").value(), Fsync::everysec);
  EXPECT_EQ(cluster::parse_fsync("no").status().code(), Errc::invalid_argument);
}

TEST_F(EmbeddedRedis, TheFolderIsPrivate_AndTheServerWantsItsPassword_WhichNoCommandLineShows) {
  // A folder left readable by an earlier version: made private at start.
  std::filesystem::create_directories(root_ / "data");
  std::filesystem::permissions(root_ / "data", std::filesystem::perms::all);
  auto redis = start();
  ASSERT_TRUE(redis);
  ASSERT_TRUE(connect(*redis).command("SET", "k", "v").is_ok());  // the AOF gets a write
  const auto mode = [](const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  };
  EXPECT_EQ(mode(redis->data_dir()), 0700u);
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(redis->data_dir())) {
    EXPECT_EQ(mode(e.path()), e.is_directory() ? 0700u : 0600u) << e.path();
    ++files;
  }
  EXPECT_GE(files, 6u);  // lock, log, state, password, config, the AOF folder and its files
  auto password = Server::read_password(redis->data_dir());
  ASSERT_TRUE(password.is_ok());
  EXPECT_EQ(password->size(), 64u);
  EXPECT_EQ(redis->address().password, *password);
  EXPECT_EQ(process_command_line(redis->pid()).find(*password), std::string::npos);

  store::RedisAddress without = redis->address();
  without.password.clear();
  auto anonymous = store::RedisConnection::connect(without, 2s);
  ASSERT_TRUE(anonymous.is_ok());
  auto refused = anonymous->command("FLUSHALL");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("NOAUTH"), std::string::npos) << refused.status().message();

  // The next start keeps the folder's password.
  EXPECT_TRUE(redis->stop().is_ok());
  auto again = start();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->address().password, *password);
  EXPECT_EQ(std::string(connect(*again).command("GET", "k").value()->str), "v");
  EXPECT_TRUE(again->stop().is_ok());
}

TEST_F(EmbeddedRedis, AnAdoptedServerWithoutAPassword_GetsTheFoldersPassword) {
  const auto dir = root_ / "data";
  std::filesystem::create_directories(dir);
  const uint16_t port = free_port();
  SpawnOptions o;
  o.argv = {"/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", std::to_string(port), "--save", "",
            "--appendonly", "yes", "--dir", dir.string()};
  o.log = dir / "redis.log";
  o.lifetime = ChildLifetime::own_session;
  const pid_t old = spawn(o).value();
  track(old);
  store::RedisAddress plain;
  plain.port = port;
  bool up = false;  // an earlier node's server: up and serving the folder
  for (int i = 0; i < 500 && !up; ++i) {
    auto conn = store::RedisConnection::connect(plain, 1s);
    up = conn && conn->command("PING").is_ok();
    if (!up) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(up);
  ASSERT_TRUE((ServerRecord{old, port}.write(dir).is_ok()));
  auto redis = start();
  ASSERT_TRUE(redis);
  EXPECT_TRUE(redis->reused());
  EXPECT_EQ(redis->pid(), old);
  EXPECT_TRUE(connect(*redis).command("PING").is_ok());
  store::RedisAddress without = redis->address();
  without.password.clear();
  auto anonymous = store::RedisConnection::connect(without, 2s);
  ASSERT_TRUE(anonymous.is_ok());
  EXPECT_FALSE(anonymous->command("PING").is_ok());
  EXPECT_TRUE(redis->stop().is_ok());
}

TEST_F(EmbeddedRedis, Supervised_AKilledServerIsStartedAgainOnTheSamePort_ThenGivesUpAfterFiveFailedStarts) {
  auto redis = start(options(Fsync::always));
  ASSERT_TRUE(redis);
  std::atomic<int> gave_up{0};
  std::string why;
  std::mutex why_mu;
  redis->supervise(
      [&](const Status& s) {
        std::lock_guard lock(why_mu);
        why = s.message();
        ++gave_up;
      },
      50ms);
  ASSERT_TRUE(connect(*redis).command("SET", "k", "v").is_ok());
  const pid_t first = redis->pid();
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  for (int i = 0; i < 200 && redis->restarts() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(redis->restarts(), 1);
  track(redis->pid());
  EXPECT_NE(redis->pid(), first);
  EXPECT_EQ(std::string(connect(*redis).command("GET", "k").value()->str), "v");

  // Its port taken by someone else: every start fails, and it gives up.
  const uint16_t port = redis->address().port;
  ASSERT_EQ(::kill(redis->pid(), SIGKILL), 0);
  const int squatter = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  ::setsockopt(squatter, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool bound = false;
  for (int i = 0; i < 100 && !bound; ++i) {  // until the killed server's socket is gone
    bound = ::bind(squatter, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(squatter, 1) == 0;
    if (!bound) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(bound);
  for (int i = 0; i < 1000 && gave_up == 0; ++i) std::this_thread::sleep_for(10ms);
  ::close(squatter);
  ASSERT_EQ(gave_up.load(), 1);
  std::lock_guard lock(why_mu);
  EXPECT_NE(why.find("failed to start 5 times in a row"), std::string::npos) << why;
  EXPECT_TRUE(redis->stop().is_ok());
}

}  // namespace
}  // namespace durable::cluster_test
