#pragma once
// Connections: the HTTP/1.1 connections of one server (Boost.Beast on Asio),
// each reading its requests in order and answering each through the Api.
//
// A connection holds no thread while it waits for a client: reads, writes
// and deadlines are asynchronous. Only a request's handler runs on a thread
// (the Api blocks on Redis); pipelined requests are answered one after
// another, in order. Limits, from HttpOptions: a request's headers within
// header_timeout of its first byte, its body within body_timeout, at most
// max_body_bytes of body however it is sent (past it: 413 and a lingering
// close, so the client reads the answer), idle keep-alive connections closed
// after idle_timeout, at most max_connections open (one more: 503, closed).

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>

#include "http/api.hpp"
#include "http/options.hpp"

namespace durable::http {

class Connection;

class Connections {
 public:
  Connections(const Api& api, const HttpOptions& options) : api_(api), options_(options) {}
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  /// Serves `socket` until either side closes it; refuses it at once (a 503
  /// and closed) when max_connections are open; closes it when the server
  /// is closing.
  void serve(boost::asio::ip::tcp::socket socket);
  /// Closes every connection: those waiting for a request now, the others
  /// as soon as their current answer is written. Later ones are refused.
  void close_all();
  /// Connections open now.
  size_t open() const;
  /// Connections refused for being over max_connections, since the start.
  size_t refused() const;

 private:
  friend class Connection;
  void forget(const Connection* connection);

  const Api& api_;
  const HttpOptions& options_;
  mutable std::mutex mu_;
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> open_;
  size_t refused_ = 0;
  bool closing_ = false;
};

}  // namespace durable::http
