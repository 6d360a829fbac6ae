#include "base/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <thread>

namespace durable {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Between polls: short enough to add no visible latency, long enough not to spin.
constexpr auto kPollInterval = milliseconds(5);
// SIGKILL cannot be caught; only a process stuck in the kernel takes longer.
constexpr auto kKillDeadline = milliseconds(10000);

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// The state letter of /proc/<pid>/stat ('R', 'S', 'Z', ...), or 0 if unreadable.
char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // "pid (comm) S ...": comm may contain spaces and ')', so search from the end.
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

// Runs in the forked child: only async-signal-safe calls from here to exec.
// `envp` null: the parent's environment.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, int log_fd, int null_fd, ChildLifetime lifetime,
                             bool private_files, pid_t parent, const char* exec_failed, size_t exec_failed_len) {
  if (private_files) ::umask(077);
  if (lifetime == ChildLifetime::die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
  } else {
    ::setsid();
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // exec resets handled signals but keeps ignored ones (SIGPIPE, often SIGINT).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL/STOP
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  ::close_range(3, ~0U, 0);  // no inherited sockets or locks
  if (envp) {
    ::execve(argv[0], argv, envp);
  } else {
    ::execv(argv[0], argv);
  }
  (void)!::write(STDERR_FILENO, exec_failed, exec_failed_len);
  ::_exit(127);
}

}  // namespace

Result<uint16_t> pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::internal(errno_text("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  Status s;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    s = Status::internal(errno_text("bind 127.0.0.1:0"));
  } else if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    s = Status::internal(errno_text("getsockname"));
  }
  ::close(fd);
  if (!s) return s;
  return static_cast<uint16_t>(ntohs(addr.sin_port));
}

Result<pid_t> spawn(const SpawnOptions& options) {
  assert(!options.argv.empty());
  // Everything the child needs is built before fork: after fork in a
  // multi-threaded process only async-signal-safe calls are allowed.
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = options.environment.value_or(std::vector<std::string>());
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string exec_failed = "durable: execv " + args[0] + " failed\n";

  const std::string log = options.log.string();
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, options.private_files ? 0600 : 0644);
  if (log_fd < 0) return Status::internal(errno_text("open " + log));
  if (options.private_files) (void)::fchmod(log_fd, 0600);  // also when it existed
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    return Status::internal(errno_text("open /dev/null"));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(argv.data(), options.environment ? envp.data() : nullptr, log_fd, null_fd, options.lifetime,
               options.private_files, parent, exec_failed.data(), exec_failed.size());
  }
  const int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) {
    errno = fork_errno;
    return Status::internal(errno_text("fork"));
  }
  return pid;
}

bool process_running(pid_t pid, int* wstatus) {
  if (pid <= 0) return false;  // waitpid/kill would address a whole group
  int ws = 0;
  const pid_t r = ::waitpid(pid, &ws, WNOHANG);
  if (r == pid) {
    if (wstatus != nullptr) *wstatus = ws;
    return false;
  }
  if (r == 0) return true;  // our child, still running
  // Not our child (ECHILD): ask the kernel whether the pid exists at all.
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie that is not ours may never be reaped (a container's pid 1 often
  // does not), yet it runs nothing. Unreadable /proc: trust kill().
  const char state = process_state(pid);
  return state != 'Z' && state != 'X';
}

bool wait_for_exit(pid_t pid, milliseconds timeout, int* wstatus) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (!process_running(pid, wstatus)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool kill_and_wait(pid_t pid) {
  if (pid <= 0) return true;
  ::kill(pid, SIGKILL);
  return wait_for_exit(pid, kKillDeadline);
}

Status terminate(pid_t pid, milliseconds grace, const std::string& what) {
  if (pid <= 0) return Status::ok();
  ::kill(pid, SIGTERM);
  if (wait_for_exit(pid, grace)) return Status::ok();
  const std::string who = what + " pid " + std::to_string(pid);
  if (!kill_and_wait(pid)) {
    return Status(Errc::deadline_exceeded, who + " survived SIGTERM and SIGKILL; it may be stuck in the kernel");
  }
  return Status(Errc::deadline_exceeded,
                who + " ignored SIGTERM for " + std::to_string(grace.count()) + " ms; killed it");
}

std::string describe_exit(int wstatus) {
  if (WIFEXITED(wstatus)) return "exited with code " + std::to_string(WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return "was killed by signal " + std::to_string(WTERMSIG(wstatus));
  return "ended with wait status " + std::to_string(wstatus);
}

std::string file_tail(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max_bytes) {
    text.erase(0, text.size() - max_bytes);
    if (const auto nl = text.find('\n'); nl != std::string::npos) text.erase(0, nl + 1);
  }
  return text;
}

std::string process_command_line(pid_t pid) {
  if (pid <= 0) return {};
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

std::filesystem::path process_cwd(pid_t pid) {
  if (pid <= 0) return {};
  std::error_code ec;
  auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  return ec ? std::filesystem::path() : cwd;
}

}  // namespace durable
