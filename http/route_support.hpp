#pragma once
// What the HTTP API's routes share (http/api.cpp, http/lifecycle_routes.cpp):
// answering, the error body, parameters, filters and the check-status links.
// Pure functions over Request and Response; no I/O.

#include <string>
#include <string_view>

#include "base/status.hpp"
#include "http/json.hpp"
#include "http/request.hpp"
#include "store/types.hpp"

namespace durable::http {

/// Sets `status` and the JSON body (invalid UTF-8 in it replaced, never thrown).
void reply(Response& res, int status, const json& body);
/// The error body every failure has: {"error": message}.
void fail(Response& res, int status, const std::string& message);
/// fail() with the status http_status() gives.
void fail(Response& res, const Status& s);
/// Client input quoted in a message, cut to 200 bytes.
std::string excerpt(std::string_view input);
/// The status for errors every route shares (400, 404, 409, 503, 504, else
/// 500); routes map their own codes first.
int http_status(const Status& s);
/// The JSON body, or null for an empty one. Errors: invalid_argument naming
/// the parser's complaint or the nesting limit.
Result<json> body_json(const Request& req);
/// A status by name, case-insensitively. Errors: invalid_argument listing them.
Result<orchestration::OrchestrationStatus> parse_status(std::string_view text);
/// runtimeStatus (comma-separated), createdTimeFrom, createdTimeTo,
/// instanceIdPrefix, newestFirst (true|false). Errors: invalid_argument
/// naming the parameter.
Result<store::InstanceFilter> parse_filter(const Request& req);
/// A whole-number parameter, `fallback` when absent, at most `max`.
Result<size_t> parse_count(const Request& req, const char* param, size_t fallback, size_t max);
/// A boolean parameter: true for "true", "True" or "1".
bool flag(const Request& req, const char* param);
/// The links a start answers with (statusQueryGetUri, sendEventPostUri,
/// terminatePostUri, suspendPostUri, resumePostUri, purgeHistoryDeleteUri,
/// rewindPostUri, restartPostUri): `base` is the server's public URL with
/// the API's base path, `key` the key the links carry (empty: none).
json check_status(const std::string& base, const std::string& id, const std::string& key);

}  // namespace durable::http
