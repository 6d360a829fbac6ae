// The dead-letter routes (issue 18): list, show, retry and discard what could
// not be processed. A quarantined instance is mended by discarding (or
// retrying) its letters and rewinding it (POST /instances/{id}/rewind).
#include "base/time.hpp"
#include "http/api.hpp"
#include "http/route_support.hpp"
#include "orchestration/codec.hpp"

namespace durable::http {
namespace {

constexpr const char* kContinuation = "x-ms-continuation-token";
constexpr size_t kDefaultTop = 100;
constexpr size_t kMaxTop = 1000;

// id, instanceId, reason, deadLetteredTime, inboxEntry (where it was, if
// anywhere), sizeBytes, and the message as a history event (null when its
// bytes do not decode: only discard helps then).
json dead_letter_json(const store::DeadLetter& d, bool with_payloads) {
  json j = {{"id", d.id},
            {"instanceId", d.instance_id},
            {"reason", d.reason},
            {"deadLetteredTime", format_utc(d.at)},
            {"sizeBytes", d.bytes.size()},
            {"message", nullptr}};
  if (!d.stream_id.empty()) j["inboxEntry"] = d.stream_id;
  auto events = orchestration::decode_events(d.bytes);
  if (events && events->size() == 1) j["message"] = event_json(events->front(), with_payloads);
  return j;
}

int dead_letter_status(const Status& s) {
  return s.code() == Errc::failed_precondition ? 409 : http_status(s);
}

}  // namespace

void Api::dead_letter_routes() {
  on("GET", "/deadLetters", [this](const Request& req, Response& res) {
    auto top = parse_count(req, "top", kDefaultTop, kMaxTop);
    if (!top) return fail(res, top.status());
    auto page = client_.dead_letters(std::max<size_t>(1, *top), req.header(kContinuation));
    if (!page) return fail(res, page.status());
    json list = json::array();
    for (const auto& d : page->letters) list.push_back(dead_letter_json(d, false));
    if (!page->continuation.empty()) res.set_header(kContinuation, page->continuation);
    reply(res, 200, list);
  });

  on("GET", "/deadLetters/*", [this](const Request& req, Response& res) {
    auto letter = client_.dead_letter(req.matches[0]);
    if (!letter) return fail(res, letter.status());
    reply(res, 200, dead_letter_json(*letter, true));
  });

  on("POST", "/deadLetters/*/retry", [this](const Request& req, Response& res) {
    auto letter = client_.dead_letter(req.matches[0]);
    if (!letter) return fail(res, letter.status());
    const Status retried = client_.retry_dead_letter(req.matches[0]);
    if (!retried) return fail(res, dead_letter_status(retried), retried.message());
    wake_owner(letter->instance_id);
    reply(res, 202, {{"id", letter->id}, {"instanceId", letter->instance_id}});
  });

  on("DELETE", "/deadLetters/*", [this](const Request& req, Response& res) {
    const Status discarded = client_.discard_dead_letter(req.matches[0]);
    if (!discarded) return fail(res, discarded);
    reply(res, 200, {{"deleted", 1}});
  });
}

}  // namespace durable::http
