#pragma once
// Request and Response: an HTTP exchange as the API's routes see it, with no
// transport in it (http/connection.cpp reads and writes them).

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace durable::http {

struct Request {
  /// Builds a request from the start line's parts: `target` is the raw
  /// request target ("/a%2Fb?x=1"), split here into path segments (raw) and
  /// query parameters (decoded, '+' as space).
  Request(std::string method, std::string_view target);

  std::string method;
  /// The path, percent-decoded (for messages).
  std::string path;
  /// The path's segments as sent, not decoded: "/a%2Fb/c" is {"a%2Fb", "c"}.
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// What the route's wildcards matched, decoded (set by the router).
  std::vector<std::string> matches;

  bool has_param(std::string_view name) const;
  /// The first value of `name`; empty when absent.
  std::string param(std::string_view name) const;
  /// The first header named `name` (case-insensitive); empty when absent.
  std::string header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;

  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
  void set_content(std::string content, std::string type) {
    body = std::move(content);
    content_type = std::move(type);
  }
};

/// Answers a request: called exactly once, from any thread.
using Respond = std::function<void(Response)>;

}  // namespace durable::http
