#include "http/route_support.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/text.hpp"
#include "base/time.hpp"

namespace durable::http {
namespace {

using orchestration::OrchestrationStatus;

// Deeper bodies are refused: packing them to msgpack recurses per level.
constexpr size_t kMaxJsonDepth = 128;
// Client input quoted in a message is cut to this.
constexpr size_t kMaxQuoted = 200;

}  // namespace

void reply(Response& res, int status, const json& body) {
  res.status = status;
  // Ids, names and reasons are client bytes: invalid UTF-8 must not throw.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void fail(Response& res, int status, const std::string& message) { reply(res, status, {{"error", message}}); }

std::string excerpt(std::string_view input) { return shortened(input, kMaxQuoted); }

// The status for errors every route shares; routes map their own codes first.
int http_status(const Status& s) {
  switch (s.code()) {
    case Errc::invalid_argument: return 400;
    case Errc::not_found: return 404;
    case Errc::already_exists: return 409;
    case Errc::unavailable: return 503;
    case Errc::deadline_exceeded: return 504;
    default: return 500;
  }
}

void fail(Response& res, const Status& s) { fail(res, http_status(s), s.message()); }

// The JSON body, or null for an empty one. Errors: invalid_argument naming
// the parser's complaint.
Result<json> body_json(const Request& req) {
  if (std::all_of(req.body.begin(), req.body.end(), [](unsigned char c) { return std::isspace(c); })) {
    return json(nullptr);
  }
  if (json_depth(req.body) > kMaxJsonDepth) {
    return Status::invalid_argument("the body is JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  try {
    return json::parse(req.body);
  } catch (const json::exception& e) {
    // The parser's message quotes the token it stopped at, which may be
    // the whole body.
    return Status::invalid_argument("the body is not valid JSON: " + excerpt(e.what()));
  }
}

Result<OrchestrationStatus> parse_status(std::string_view text) {
  for (uint8_t i = 0; i <= orchestration::kMaxOrchestrationStatus; ++i) {
    const auto s = static_cast<OrchestrationStatus>(i);
    if (iequals(orchestration::status_name(s), text)) return s;
  }
  return Status::invalid_argument("runtimeStatus: unknown status '" + excerpt(text) +
                                  "' (Pending, Running, Completed, ContinuedAsNew, Failed, Terminated, Suspended)");
}

// runtimeStatus, createdTimeFrom, createdTimeTo, instanceIdPrefix, newestFirst.
Result<store::InstanceFilter> parse_filter(const Request& req) {
  store::InstanceFilter filter;
  if (req.has_param("runtimeStatus")) {
    const std::string list = req.param("runtimeStatus");
    size_t start = 0;
    while (start <= list.size()) {
      const size_t comma = std::min(list.find(',', start), list.size());
      const std::string_view one = std::string_view(list).substr(start, comma - start);
      if (!one.empty()) {
        auto s = parse_status(one);
        if (!s) return s.status();
        filter.statuses.push_back(*s);
      }
      start = comma + 1;
    }
  }
  for (auto [param, field] : {std::pair{"createdTimeFrom", &filter.created_from},
                              std::pair{"createdTimeTo", &filter.created_to}}) {
    if (!req.has_param(param)) continue;
    auto at = parse_utc(req.param(param));
    if (!at) return Status::invalid_argument(std::string(param) + ": " + at.status().message());
    *field = *at;
  }
  filter.id_prefix = req.param("instanceIdPrefix");
  if (req.has_param("newestFirst")) {
    const std::string v = req.param("newestFirst");
    if (v != "true" && v != "false") return Status::invalid_argument("newestFirst must be true or false, not '" + v + "'");
    filter.newest_first = v == "true";
  }
  return filter;
}

Result<size_t> parse_count(const Request& req, const char* param, size_t fallback, size_t max) {
  if (!req.has_param(param)) return fallback;
  const std::string text = req.param(param);
  size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::invalid_argument(std::string(param) + ": '" + excerpt(text) + "' is not a whole number");
  }
  return std::min(value, max);
}

bool flag(const Request& req, const char* param) {
  const std::string v = req.param(param);
  return v == "true" || v == "True" || v == "1";
}

// The links a start answers with: `base` is the server's public URL.
json check_status(const std::string& base, const std::string& id, const std::string& key) {
  const std::string instance = base + "/instances/" + url_encode(id);
  const std::string code = key.empty() ? "" : "code=" + url_encode(key);
  const auto with = [&](const std::string& url, const std::string& query) {
    std::string q = query;
    if (!code.empty()) q += (q.empty() ? "" : "&") + code;
    return q.empty() ? url : url + "?" + q;
  };
  return {{"id", id},
          {"statusQueryGetUri", with(instance, "")},
          {"sendEventPostUri", with(instance + "/raiseEvent/{eventName}", "")},
          {"terminatePostUri", with(instance + "/terminate", "reason={text}")},
          {"suspendPostUri", with(instance + "/suspend", "reason={text}")},
          {"resumePostUri", with(instance + "/resume", "reason={text}")},
          {"purgeHistoryDeleteUri", with(instance, "")},
          {"rewindPostUri", with(instance + "/rewind", "reason={text}")},
          {"restartPostUri", with(instance + "/restart", "restartWithNewInstanceId={bool}")}};
}

}  // namespace durable::http
