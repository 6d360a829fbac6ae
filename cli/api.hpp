#pragma once
// The node's HTTP API as the `durable` tool uses it: one request, its status
// and its JSON body.

#include <httplib.h>

#include <memory>
#include <string>

#include "base/status.hpp"
#include "http/json.hpp"

namespace durable::cli {

using http::json;

struct Reply {
  int status = 0;
  json body;  // null when the body was empty or not JSON
  std::string continuation;  // x-ms-continuation-token
};

class Api {
 public:
  /// `url`: "http://host:port". `key`: sent as a Bearer token when set.
  Api(const std::string& url, std::string key);

  /// method GET, POST or DELETE on `path` (below /runtime/webhooks/durabletask).
  /// Errors: unavailable naming the URL when the node cannot be reached.
  Result<Reply> call(const std::string& method, const std::string& path, const std::string& body = "",
                     const std::string& continuation = "");

  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::string key_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace durable::cli
