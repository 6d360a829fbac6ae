#include "http/connection.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "base/log.hpp"

namespace durable::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Request line and headers together.
constexpr uint32_t kHeaderLimit = 8192;
// What a connection reads first while it waits for a request.
constexpr size_t kFirstRead = 4096;
// Writing one answer may take this long.
constexpr auto kWriteTimeout = std::chrono::seconds(30);
// After a last answer, the bytes a client still sends are read and dropped
// for up to this long (lingering close: closing with unread bytes would
// reset the connection, and the client could lose the answer).
constexpr auto kLingerTotal = std::chrono::seconds(5);
constexpr auto kLingerRead = std::chrono::seconds(2);

const std::string kOverLimit = [] {
  const std::string body = R"({"error":"too many connections: the server is at its limit, try again"})";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + body;
}();

}  // namespace

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket&& socket, Connections& owner) : stream_(std::move(socket)), owner_(owner) {}
  ~Connection() { owner_.forget(this); }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
  }

  // The server is closing: a connection waiting for a request (or lingering)
  // closes now, one that is answering closes once the answer is written.
  void close_soon() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (self->state_ == State::reading || self->state_ == State::lingering) self->close();
    });
  }

 private:
  enum class State { reading, handling, writing, lingering, closed };
  const HttpOptions& options() const { return owner_.options_; }

  void read_request() {
    if (closing_) return close();
    state_ = State::reading;
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    if (buffer_.size() > 0) return read_header();  // pipelined: the next request is here
    // Idle until the request's first byte: the header deadline starts there.
    stream_.expires_after(options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->close();
                              self->read_header();
                            });
  }

  void read_header() {
    stream_.expires_after(options().header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->read_failed(ec);
      const auto& req = self->parser_->get();
      if (!self->parser_->is_done() && beast::iequals(req[bhttp::field::expect], "100-continue")) {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        self->stream_.expires_after(kWriteTimeout);
        return asio::async_write(self->stream_, asio::buffer(kContinue), [self](beast::error_code ec, size_t) {
          if (ec) return self->close();
          self->read_body();
        });
      }
      self->read_body();
    });
  }

  void read_body() {
    stream_.expires_after(options().body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->read_failed(ec);
      self->handle();
    });
  }

  void read_failed(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return refuse(413, "the request body is over " + std::to_string(options().max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return refuse(431, "the request line and headers are over " + std::to_string(kHeaderLimit) + " bytes");
    }
    // The client left or was too slow (Beast closed the stream then).
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return close();
    }
    refuse(400, "malformed request: " + ec.message());
  }

  // Answers with an error and closes: what follows on the connection
  // cannot be read as requests.
  void refuse(int status, const std::string& message) {
    keep_alive_ = false;
    write(Api::error(status, message), true);
  }

  void handle() {
    state_ = State::handling;
    auto& msg = parser_->get();
    Request req(std::string(msg.method_string()), msg.target());
    for (const auto& field : msg) req.headers.emplace_back(field.name_string(), field.value());
    req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    parser_.reset();
    owner_.api_.handle(std::move(req), [self = shared_from_this()](Response res) {
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->write(std::move(res), false); });
    });
  }

  // `last`: close after it, lingering.
  void write(Response res, bool last) {
    state_ = State::writing;
    response_ = {};
    response_.result(static_cast<unsigned>(res.status));
    response_.version(version_);
    for (auto& [name, value] : res.headers) response_.insert(name, value);
    if (!res.content_type.empty()) response_.set(bhttp::field::content_type, res.content_type);
    response_.body() = std::move(res.body);
    response_.keep_alive(keep_alive_ && !last && !closing_);
    response_.prepare_payload();
    stream_.expires_after(kWriteTimeout);
    bhttp::async_write(stream_, response_, [self = shared_from_this(), last](beast::error_code ec, size_t) {
      if (ec) return self->close();
      if (self->response_.keep_alive()) return self->read_request();
      if (last && !self->closing_) return self->linger();
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->close();
    });
  }

  void linger() {
    state_ = State::lingering;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    linger_until_ = Clock::now() + kLingerTotal;
    discard_ = std::make_unique<std::array<char, 16384>>();
    drain();
  }

  void drain() {
    stream_.expires_at(std::min(linger_until_, Clock::now() + kLingerRead));
    stream_.async_read_some(asio::buffer(*discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || Clock::now() >= self->linger_until_) return self->close();
      self->drain();
    });
  }

  void close() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Connections& owner_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::unique_ptr<std::array<char, 16384>> discard_;  // while lingering
  Clock::time_point linger_until_{};
  State state_ = State::reading;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool closing_ = false;
};

void Connections::serve(tcp::socket socket) {
  std::shared_ptr<Connection> connection;
  size_t refused = 0;
  {
    std::lock_guard lock(mu_);
    if (closing_) return;  // accepted as the server closes: the socket closes with it
    if (open_.size() >= options_.max_connections) {
      refused = ++refused_;
    } else {
      connection = std::make_shared<Connection>(std::move(socket), *this);
      open_.emplace(connection.get(), connection);
    }
  }
  if (connection) return connection->start();
  // Refused at once, with a word if the socket takes it without waiting.
  (void)::send(socket.native_handle(), kOverLimit.data(), kOverLimit.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  beast::error_code ignored;
  socket.close(ignored);
  if (refused == 1 || refused % 1000 == 0) {
    durable::logger("http")->warn("refused a connection: {} are open, the limit (--http-max-connections); {} refused so far",
                                  options_.max_connections, refused);
  }
}

void Connections::close_all() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    for (auto& [key, weak] : open_) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (const auto& c : open) c->close_soon();
}

size_t Connections::open() const {
  std::lock_guard lock(mu_);
  return open_.size();
}

size_t Connections::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}

void Connections::forget(const Connection* connection) {
  std::lock_guard lock(mu_);
  open_.erase(connection);
}

}  // namespace durable::http
