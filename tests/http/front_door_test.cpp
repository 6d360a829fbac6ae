// The HTTP front door against hostile and slow clients, over raw sockets on
// loopback: bodies bounded however they arrive, slow and idle clients
// holding nothing others need, pipelining, the connection cap, many
// simultaneous connects, links that ignore Host, and a SIGTERM that ends
// everything within 5 s (a real node process).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "base/process.hpp"
#include "tests/http/http_fixture.hpp"
#include "tests/support/node_process.hpp"

namespace durable::http {
namespace {

using Clock = std::chrono::steady_clock;

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// A client socket that does what httplib will not: trickle, pipeline, hold.
class Raw {
 public:
  explicit Raw(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Raw() { ::close(fd_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  bool connected() const { return connected_; }
  // All of `bytes`; false when the server closed or reset the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // One response (Content-Length framed); nullopt on close or timeout.
  std::optional<RawResponse> read_response(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) return std::nullopt;
    }
    RawResponse r;
    r.head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    r.status = std::atoi(r.head.c_str() + r.head.find(' ') + 1);
    size_t length = 0;
    const std::string lower = [&] {
      std::string l = r.head;
      for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return l;
    }();
    if (const size_t at = lower.find("content-length:"); at != std::string::npos) {
      length = std::strtoul(lower.c_str() + at + 15, nullptr, 10);
    }
    while (pending_.size() < length) {
      if (!fill(deadline)) return std::nullopt;
    }
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }
  // True when the server ends the connection with a FIN (an orderly close,
  // what a lingering close gives) within `timeout`, reading what it sends
  // until then; false on a reset or no close.
  bool closed_gently_within(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return false;  // ECONNRESET
    }
    return false;
  }
  // True when the server closes the connection within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool fill(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

std::string post_head(const std::string& path, size_t length, const std::string& extra = "") {
  return "POST " + kBase + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

const std::string kHealth = "GET " + kBase + "/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// This process' resident memory, in MB.
size_t rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoul(line.c_str() + 6, nullptr, 10) / 1024;
  }
  return 0;
}

// How long GET /health takes on a fresh connection.
Clock::duration health_latency(uint16_t port) {
  const auto t = Clock::now();
  Raw probe(port);
  EXPECT_TRUE(probe.send(kHealth));
  auto r = probe.read_response(5s);
  EXPECT_TRUE(r && r->status == 200) << (r ? r->head : "no answer");
  return Clock::now() - t;
}

class FrontDoorTest : public HttpTest {
 protected:
  // The default body limit (16 MiB), not the small one of the route tests.
  void serve_default_limits(const std::function<void(HttpOptions&)>& tune = {}) {
    serve({}, 16, [&](HttpOptions& o) {
      o.max_body_bytes = HttpOptions().max_body_bytes;
      if (tune) tune(o);
    });
  }
};

TEST_F(FrontDoorTest, AChunkedBodyPastTheLimitIsAnswered413WithoutBeingRead) {
  serve_default_limits();
  const size_t before = rss_mb();
  std::atomic<size_t> peak{before};
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak.load(), rss_mb());
      std::this_thread::sleep_for(5ms);
    }
  });
  Raw raw(http_->port());
  ASSERT_TRUE(raw.send("POST " + kBase +
                       "/orchestrators/HelloSequence HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // 200 MiB in 1 MiB chunks, sent while the answer is read.
  std::atomic<size_t> sent_mb{0};
  std::thread sender([&] {
    const std::string chunk = "100000\r\n" + std::string(1 << 20, 'x') + "\r\n";
    for (int i = 0; i < 200 && raw.send(chunk); ++i) ++sent_mb;
  });
  auto r = raw.read_response(20s);
  sender.join();
  done = true;
  sampler.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->head << r->body;
  EXPECT_NE(r->head.find("Connection: close"), std::string::npos) << r->head;
  EXPECT_NE(r->body.find("over 16777216 bytes"), std::string::npos) << r->body;
  EXPECT_LT(r->body.size(), 1024u);
  EXPECT_LT(peak.load(), 300u) << "MB resident (" << before << " before, " << sent_mb << " MiB sent)";
  EXPECT_LT(health_latency(http_->port()), 1s);
}

TEST_F(FrontDoorTest, PastTheLimit_TheClientReadsThe413AndAnOrderlyClose_NotAReset) {
  serve_default_limits([](HttpOptions& o) { o.max_body_bytes = 1 << 20; });
  Raw raw(http_->port());
  ASSERT_TRUE(raw.send(post_head("/orchestrators/HelloSequence", 64u << 20)));
  // 8 MiB more than the node will read, still arriving as it answers: a
  // close with unread bytes would reset the connection, and the client
  // could lose the 413 it had not read yet.
  std::thread sender([&] {
    const std::string chunk(256 << 10, 'x');
    for (int i = 0; i < 32 && raw.send(chunk); ++i) {
    }
  });
  auto r = raw.read_response(20s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->head << r->body;
  EXPECT_NE(r->head.find("Connection: close"), std::string::npos) << r->head;
  EXPECT_TRUE(raw.closed_gently_within(10s)) << "reset instead of a lingering close";
  sender.join();
}

TEST_F(FrontDoorTest, ErrorsQuoteAtMost200BytesOfTheInput) {
  serve_default_limits();
  // The longest run of `c` in `text`.
  auto longest_run = [](const std::string& text, char c) {
    size_t best = 0, run = 0;
    for (char x : text) best = std::max(best, run = x == c ? run + 1 : 0);
    return best;
  };
  const std::string body = "[\"" + std::string(100'000, 'q');  // unterminated string
  Raw raw(http_->port());
  ASSERT_TRUE(raw.send(post_head("/orchestrators/HelloSequence", body.size()) + body));
  auto r = raw.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body.substr(0, 300);
  EXPECT_LE(longest_run(r->body, 'q'), 200u) << r->body.substr(0, 600);

  const std::string id(5'000, 'z');
  Raw other(http_->port());
  ASSERT_TRUE(other.send("GET " + kBase + "/instances/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto g = other.read_response();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 400) << g->body.substr(0, 300);
  EXPECT_LE(longest_run(g->body, 'z'), 200u) << g->body.substr(0, 600);
}

TEST_F(FrontDoorTest, LargeInvalidBodiesAtOnce_EachAnswerIsShort) {
  serve_default_limits();
  // An unterminated string: the parser's message would quote all of it.
  const std::string body = "[\"" + std::string(15u << 20, 'x');
  std::vector<std::thread> clients;
  std::atomic<int> short_400s{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      Raw raw(http_->port());
      if (!raw.send(post_head("/orchestrators/HelloSequence", body.size()) + body)) return;
      auto r = raw.read_response(60s);
      if (r && r->status == 400 && r->body.size() < 1024 && r->body.find("not valid JSON") != std::string::npos) {
        ++short_400s;
      } else {
        ADD_FAILURE() << (r ? r->head + r->body.substr(0, 300) : "no answer");
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(short_400s.load(), 8);
}

TEST_F(FrontDoorTest, SlowHeaderSockets_DoNotDelayOthers_AndAreClosedAtTheHeaderDeadline) {
  serve_default_limits([](HttpOptions& o) { o.header_timeout = 1500ms; });
  std::vector<std::unique_ptr<Raw>> slow;
  for (int i = 0; i < 300; ++i) {
    slow.push_back(std::make_unique<Raw>(http_->port()));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->send("GET " + kBase + "/health HTTP/1.1\r\nX-Slow: "));
  }
  // Held sockets would make every probe wait for seconds; a busy CI machine
  // (tests run two at a time on two cores) may delay one, so the median
  // must be under 100 ms and none over a second.
  std::vector<Clock::duration> took;
  for (int probe = 0; probe < 5; ++probe) {
    took.push_back(health_latency(http_->port()));
    for (auto& s : slow) (void)s->send("y");  // a byte each: still within the header deadline
  }
  std::sort(took.begin(), took.end());
  EXPECT_LT(took[2], 100ms);
  EXPECT_LT(took.back(), 1s);
  // Past the header deadline, each slow socket is closed.
  int closed = 0;
  for (auto& s : slow) closed += s->closed_within(5s) ? 1 : 0;
  EXPECT_EQ(closed, 300);
}

TEST_F(FrontDoorTest, PipelinedSignals_AreEachAnsweredInOrderAndApplied) {
  serve_default_limits();
  // Ten adds of 1, a reset, nine adds of 2: only in their order does the
  // counter end at 18 (it never passes 18 on the way).
  std::string requests;
  for (int i = 0; i < 20; ++i) {
    const std::string op = i == 10 ? "reset" : "add";
    requests += post_head("/entities/Counter/piped?op=" + op + "&requestId=r" + std::to_string(i), 1) +
                (i < 10 ? "1" : "2");
  }
  Raw raw(http_->port());
  ASSERT_TRUE(raw.send(requests));  // back to back, one write
  for (int i = 0; i < 20; ++i) {
    auto r = raw.read_response();
    ASSERT_TRUE(r) << "answer " << i;
    EXPECT_EQ(r->status, 202) << r->body;
    EXPECT_EQ(json::parse(r->body)["requestId"], "r" + std::to_string(i));
  }
  EXPECT_EQ(entity_when("Counter/piped", 18), json(18));
}

TEST_F(FrontDoorTest, IdleAndSlowBodyConnectionsAreClosedAtTheirDeadlines) {
  serve_default_limits([](HttpOptions& o) {
    o.idle_timeout = 300ms;
    o.body_timeout = 300ms;
  });
  Raw idle(http_->port());
  ASSERT_TRUE(idle.send(kHealth));
  ASSERT_TRUE(idle.read_response());
  EXPECT_TRUE(idle.closed_within(3s));
  Raw slow_body(http_->port());
  ASSERT_TRUE(slow_body.send(post_head("/orchestrators/HelloSequence", 10) + "[\""));
  EXPECT_TRUE(slow_body.closed_within(3s));
}

TEST_F(FrontDoorTest, PastMaxConnections_ANewOneIsRefusedAtOnce) {
  serve_default_limits([](HttpOptions& o) { o.max_connections = 3; });
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 3; ++i) {  // answered, so surely counted; kept alive
    held.push_back(std::make_unique<Raw>(http_->port()));
    ASSERT_TRUE(held.back()->send(kHealth));
    ASSERT_TRUE(held.back()->read_response());
  }
  Raw over(http_->port());
  const auto t = Clock::now();
  auto r = over.read_response(2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("too many connections"), std::string::npos);
  EXPECT_TRUE(over.closed_within(1s));
  EXPECT_LT(Clock::now() - t, 1s);
  held.pop_back();  // one leaves: room again
  for (int attempt = 0; attempt < 100; ++attempt) {
    Raw again(http_->port());
    (void)again.send(kHealth);
    auto a = again.read_response(2s);
    if (a && a->status == 200) return;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "no room after a connection closed";
}

TEST_F(FrontDoorTest, AThousandSimultaneousConnects_AreAllAnsweredWithoutWaitingForARetransmit) {
  serve_default_limits();
  std::vector<int> fds;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(http_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto t = Clock::now();
  for (int i = 0; i < 1000; ++i) {  // non-blocking: all in the backlog together
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(fd, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fds.push_back(fd);
  }
  std::vector<pollfd> polls;
  for (int fd : fds) polls.push_back({fd, POLLOUT, 0});
  size_t connected = 0;
  while (connected < fds.size() && Clock::now() - t < 10s) {
    connected = 0;
    (void)::poll(polls.data(), polls.size(), 100);
    for (auto& p : polls) connected += (p.revents & POLLOUT) ? 1 : 0;
  }
  const auto all_connected = Clock::now() - t;
  EXPECT_EQ(connected, 1000u);
  EXPECT_LT(all_connected, 1s);  // a dropped SYN is retried after 1 s
  int answered = 0;
  for (int fd : fds) {
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (::send(fd, kHealth.data(), kHealth.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(kHealth.size())) continue;
  }
  for (int fd : fds) {
    pollfd p{fd, POLLIN, 0};
    char buf[1024];
    if (::poll(&p, 1, 10000) == 1 && ::recv(fd, buf, sizeof buf, 0) > 12 && std::string_view(buf, 12) == "HTTP/1.1 200") {
      ++answered;
    }
    ::close(fd);
  }
  EXPECT_EQ(answered, 1000);
}

TEST_F(FrontDoorTest, LinksComeFromThePublicUrl_NeverFromHost) {
  Raw raw(http_->port());
  ASSERT_TRUE(raw.send("POST " + kBase +
                       "/orchestrators/HelloSequence/hosted HTTP/1.1\r\nHost: evil.example:666\r\n"
                       "Content-Length: 2\r\n\r\n[]"));
  auto r = raw.read_response();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(r->head.find("evil"), std::string::npos) << r->head;
  EXPECT_EQ(r->body.find("evil"), std::string::npos) << r->body;
  EXPECT_EQ(json::parse(r->body)["statusQueryGetUri"],
            "http://127.0.0.1:" + std::to_string(http_->port()) + kBase + "/instances/hosted");

  serve({}, 4, [](HttpOptions& o) { o.public_url = "https://api.example/durable/"; });
  Raw other(http_->port());
  ASSERT_TRUE(other.send("GET " + kBase + "/instances/hosted HTTP/1.1\r\nHost: evil.example:666\r\n\r\n"));
  auto status = other.read_response();
  ASSERT_TRUE(status);
  if (status->status == 202) {  // still running: the Location header is a link
    EXPECT_NE(status->head.find("Location: https://api.example/durable" + kBase + "/instances/hosted"),
              std::string::npos)
        << status->head;
  }
  auto started = post("/orchestrators/HelloSequence/hosted2", "[]");
  ASSERT_TRUE(started);
  EXPECT_EQ(body(started)["statusQueryGetUri"], "https://api.example/durable" + kBase + "/instances/hosted2");
}

TEST_F(FrontDoorTest, APublicUrlThatIsNotHttpIsRefusedAtStart) {
  HttpOptions o;
  o.port = 0;
  o.public_url = "api.example:80";
  auto started = HttpServer::start(o, registry_, entities_, client_options_);
  ASSERT_FALSE(started);
  EXPECT_NE(started.status().message().find("public URL 'api.example:80'"), std::string::npos);
}

// SIGTERM to a real node with 10 outstanding waits and 100 trickling sockets.
TEST_F(FrontDoorTest, SigtermWithWaitsAndTricklingSockets_EndsWithinFiveSeconds) {
  http_.reset();
  auto port = pick_free_port();
  ASSERT_TRUE(port);
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  durable::testing::NodeProcess node({"--redis", server().url(), "--hub", "sigterm", "--partitions", "4", "--workers", "2",
                             "--http", address, "--cluster-port", "0", "--log-level", "info"});
  ASSERT_TRUE(node.start());
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    Raw probe(*port);
    up = probe.connected() && probe.send(kHealth) && probe.read_response(1s).has_value();
    if (!up) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(up) << node.log_tail();

  std::vector<std::unique_ptr<Raw>> waits;
  for (int i = 0; i < 10; ++i) {
    const std::string input = R"({"proposal":"p","timeoutSeconds":3600})";
    waits.push_back(std::make_unique<Raw>(*port));
    ASSERT_TRUE(waits.back()->send(post_head("/orchestrators/Approval/w" + std::to_string(i) + "?timeout=60",
                                             input.size()) +
                                   input));
  }
  std::vector<std::unique_ptr<Raw>> trickling;
  for (int i = 0; i < 100; ++i) {
    trickling.push_back(std::make_unique<Raw>(*port));
    ASSERT_TRUE(trickling.back()->send("GET " + kBase + "/health HTTP/1.1\r\nX-Slow: "));
  }
  // Every wait is in place once its instance exists (the wait follows its start).
  client::ClientOptions c = client_options_;
  c.hub = "sigterm";
  auto client = client::Client::connect(c);
  ASSERT_TRUE(client);
  for (int i = 0; i < 10; ++i) {
    for (int tries = 0; tries < 200 && !(*client)->get("w" + std::to_string(i)); ++tries) {
      std::this_thread::sleep_for(20ms);
    }
  }

  const auto t = Clock::now();
  Status stopped = node.stop();  // SIGTERM, and wait for the exit
  const auto took = Clock::now() - t;
  EXPECT_TRUE(stopped) << stopped.to_string();
  EXPECT_LT(took, 5s) << node.log_tail();
  for (int i = 0; i < 10; ++i) {
    auto r = waits[i]->read_response(1s);
    ASSERT_TRUE(r) << "wait " << i;
    EXPECT_EQ(r->status, 202) << r->body;
    EXPECT_EQ(json::parse(r->body)["id"], "w" + std::to_string(i));
  }
  for (auto& s : trickling) EXPECT_TRUE(s->closed_within(1s));
}

}  // namespace
}  // namespace durable::http
