#include "http/server.hpp"

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <fstream>
#include <thread>

#include "base/log.hpp"
#include "http/api.hpp"
#include "http/connection.hpp"
#include "client/patient_connect.hpp"
#include "client/waits.hpp"

namespace durable::http {
namespace {

namespace asio = boost::asio;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;

// How long stop() lets the requests being handled finish.
constexpr auto kStopGrace = 3s;
// After accept() fails (out of file descriptors), the pause before the next.
constexpr auto kAcceptRetry = 100ms;

// The system's largest listen backlog (a larger one is cut to it anyway).
int max_backlog() {
  std::ifstream in("/proc/sys/net/core/somaxconn");
  int value = 0;
  if (in >> value && value > 0) return value;
  return SOMAXCONN;
}

// Lets the process hold `wanted` descriptors if its hard limit allows.
void raise_open_files_limit(rlim_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < wanted) {
    durable::logger("http")->warn("open files limited to {} (hard limit; was {}): fewer connections than "
                                  "--http-max-connections can be open",
                                  limit.rlim_cur, before);
  }
}

// The links' base: `configured` without a trailing '/', or http://host:port
// (127.0.0.1 for a wildcard host). Errors: invalid_argument.
Result<std::string> links_base(const std::string& configured, const std::string& host, uint16_t port) {
  if (configured.empty()) {
    const bool wildcard = host == "0.0.0.0" || host == "::" || host == "[::]";
    const bool v6 = !wildcard && host.find(':') != std::string::npos && host.front() != '[';
    const std::string shown = wildcard ? "127.0.0.1" : v6 ? "[" + host + "]" : host;
    return "http://" + shown + ":" + std::to_string(port);
  }
  const bool scheme = configured.starts_with("http://") || configured.starts_with("https://");
  const bool plain = configured.find_first_of(" \t\r\n?#") == std::string::npos;
  if (!scheme || !plain || configured.size() <= std::string("https://").size()) {
    return Status::invalid_argument("public URL '" + configured +
                                    "' is not http(s)://host[:port][/path] (e.g. http://api.example:7071)");
  }
  std::string url = configured;
  while (url.ends_with('/')) url.pop_back();
  return url;
}

}  // namespace

struct HttpServer::Impl {
  HttpOptions options;
  std::string public_url;
  std::unique_ptr<client::Client> client;
  std::unique_ptr<asio::io_context> io;
  std::unique_ptr<client::Waits> waits;
  std::unique_ptr<Api> api;
  std::unique_ptr<Connections> connections;
  std::unique_ptr<tcp::acceptor> acceptor;  // on a strand, with `retry`
  std::unique_ptr<asio::steady_timer> retry;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  size_t accept_failures = 0;  // on the acceptor's strand
  bool stopped = false;

  ~Impl() {
    stop();
    // Objects with timers and strands before their io_context; the
    // io_context (and the handlers it still holds, which reach connections
    // and the client) before the rest.
    retry.reset();
    acceptor.reset();
    waits.reset();
    io.reset();
  }

  Status listen() {
    const std::string address = options.host + ":" + std::to_string(options.port);
    boost::system::error_code ec;
    tcp::resolver resolver(*io);
    auto found = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || found.empty()) {
      return Status(Errc::unavailable, "cannot listen on " + address + ": not an address here (" + ec.message() + ")");
    }
    const tcp::endpoint endpoint = found.begin()->endpoint();
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(max_backlog(), ec);
    if (ec) return Status(Errc::unavailable, "cannot listen on " + address + ": " + ec.message());
    port = acceptor->local_endpoint().port();
    return Status::ok();
  }

  void accept() {
    acceptor->async_accept(asio::make_strand(*io), [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) {  // out of descriptors, most likely: pause, then go on
        if (accept_failures++ % 1000 == 0) {
          durable::logger("http")->error("accepting a connection failed: {} ({} times)", ec.message(),
                                         accept_failures);
        }
        retry->expires_after(kAcceptRetry);
        retry->async_wait([this](boost::system::error_code ec) {
          if (!ec) accept();
        });
        return;
      }
      socket.set_option(tcp::no_delay(true), ec);
      connections->serve(std::move(socket));
      accept();
    });
  }

  void stop() {
    if (stopped || threads.empty()) return;
    stopped = true;
    asio::post(acceptor->get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
      retry->cancel();
    });
    connections->close_all();
    waits->close();
    const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
    while (connections->open() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    io->stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpOptions options, const orchestration::Registry& registry,
                                                      const entities::EntityRegistry& entities,
                                                      client::ClientOptions client_options,
                                                      std::function<Metrics()> metrics) {
  const uint32_t partitions = client_options.partitions;
  const bool hands_off_starts = client_options.hand_off.has_value();
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const HttpOptions& o = impl->options;
  if (!o.public_url.empty()) {  // checked before anything starts
    if (auto url = links_base(o.public_url, o.host, o.port); !url) return url.status();
  }
  // Redis may be restarting (an embedded server's supervisor brings it back).
  auto client = client::connect_patiently(client_options, std::chrono::seconds(30));
  if (!client) return client.status();
  impl->client = std::move(*client);
  impl->io = std::make_unique<asio::io_context>(static_cast<int>(std::max<size_t>(1, o.threads)));
  impl->acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(*impl->io));
  impl->retry = std::make_unique<asio::steady_timer>(impl->acceptor->get_executor());
  if (Status s = impl->listen(); !s) return s;
  impl->public_url = *links_base(o.public_url, o.host, impl->port);
  impl->waits = std::make_unique<client::Waits>(*impl->io, *impl->client);
  impl->api = std::make_unique<Api>(o, impl->public_url, registry, entities, *impl->client, partitions,
                                    std::move(metrics), *impl->waits, hands_off_starts);
  impl->connections = std::make_unique<Connections>(*impl->api, o);
  raise_open_files_limit(static_cast<rlim_t>(o.max_connections + 1024));
  impl->accept();
  for (size_t i = 0; i < std::max<size_t>(1, o.threads); ++i) {
    impl->threads.emplace_back([io = impl->io.get()] { io->run(); });
  }
  durable::logger("http")->info("serving the HTTP API on http://{}:{}/runtime/webhooks/durabletask and the "
                                "dashboard at /dashboard/ (links: {})",
                                o.host, impl->port, impl->public_url);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

uint16_t HttpServer::port() const { return impl_->port; }

const std::string& HttpServer::public_url() const { return impl_->public_url; }

void HttpServer::stop() { impl_->stop(); }

Result<HttpOptions> parse_listen_address(std::string_view text) {
  HttpOptions o;
  const size_t colon = text.rfind(':');
  const std::string_view port = colon == std::string_view::npos ? text : text.substr(colon + 1);
  if (colon != std::string_view::npos) o.host = std::string(text.substr(0, colon));
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535 || o.host.empty()) {
    return Status::invalid_argument("'" + std::string(text) + "' is not host:port (e.g. 127.0.0.1:7071)");
  }
  o.port = static_cast<uint16_t>(value);
  return o;
}

}  // namespace durable::http
