#include "cli/api.hpp"


namespace durable::cli {

namespace {
const std::string kBase = "/runtime/webhooks/durabletask";
}

Api::Api(const std::string& url, std::string key)
    : url_(url), key_(std::move(key)), client_(std::make_unique<httplib::Client>(url)) {
  client_->set_tcp_nodelay(true);
  client_->set_connection_timeout(5, 0);
  client_->set_read_timeout(120, 0);
}

Result<Reply> Api::call(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& continuation) {
  httplib::Headers headers;
  if (!key_.empty()) headers.emplace("Authorization", "Bearer " + key_);
  if (!continuation.empty()) headers.emplace("x-ms-continuation-token", continuation);
  const std::string target = kBase + path;
  httplib::Result r = method == "GET"    ? client_->Get(target.c_str(), headers)
                      : method == "POST" ? client_->Post(target.c_str(), headers, body, "application/json")
                                         : client_->Delete(target.c_str(), headers);
  if (!r) {
    return Status(Errc::unavailable,
                  "cannot reach the node at " + url_ + " (" + httplib::to_string(r.error()) +
                      "); is durable-node running with --http?");
  }
  Reply reply;
  reply.status = r->status;
  reply.continuation = r->get_header_value("x-ms-continuation-token");
  if (!r->body.empty()) reply.body = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return reply;
}

}  // namespace durable::cli
