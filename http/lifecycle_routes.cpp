// The routes that mend and clear instances (issue 18): rewind, restart, and
// purge (one, or by filter in the background), each with ?recursive= where
// Durable Functions has it. Registered before instance_routes(), whose
// POST /instances/*/* would otherwise take /rewind and /restart.
#include "base/instance_id.hpp"
#include "base/text.hpp"
#include "client/waits.hpp"
#include "http/api.hpp"
#include "http/purge_jobs.hpp"
#include "http/route_support.hpp"

namespace durable::http {
namespace {

json progress_json(const PurgeJobs::Progress& p) {
  json body = {{"id", p.id},
               {"instancesDeleted", p.purged},
               {"runtimeStatus", !p.done ? "Running" : p.error ? "Completed" : "Failed"}};
  if (p.done && !p.error) body["error"] = p.error.message();
  return body;
}

}  // namespace

void Api::lifecycle_routes() {
  on("POST", "/instances/*/rewind", [this](const Request& req, Response& res) {
    const std::string id = req.matches[0];
    if (Status s = validate_instance_id(id); !s) return fail(res, s);
    const json reason = req.has_param("reason") ? json(req.param("reason")) : json(nullptr);
    const Status done = client_.rewind(id, payload_from_json(reason));
    // As Durable Functions: 410 for an instance that cannot be rewound (we
    // say so for every status but Failed, naming it).
    if (!done) return fail(res, done.code() == Errc::failed_precondition ? 410 : http_status(done), done.message());
    wake_owner(id);
    res.status = 202;
  });

  on("POST", "/instances/*/restart", [this](const Request& req, Response& res) {
    const std::string id = req.matches[0];
    if (Status s = validate_instance_id(id); !s) return fail(res, s);
    auto started = client_.restart(id, flag(req, "restartWithNewInstanceId"));
    if (!started) {
      const Status& s = started.status();
      return fail(res, s.code() == Errc::failed_precondition ? 409 : http_status(s), s.message());
    }
    if (!hands_off_starts_) wake_owner(*started);
    const json links = check_status(base_url_, *started, options_.key);
    res.set_header("Location", links["statusQueryGetUri"].get<std::string>());
    reply(res, 202, links);
  });

  on("DELETE", "/instances/*", [this](const Request& req, Response& res) {
    if (Status s = validate_instance_id(req.matches[0]); !s) return fail(res, s);
    const Status purged = client_.purge(req.matches[0], flag(req, "recursive"));
    if (!purged) return fail(res, purged.code() == Errc::failed_precondition ? 409 : http_status(purged), purged.message());
    reply(res, 200, {{"instancesDeleted", 1}});
  });

  on_later("DELETE", "/instances", [this](Request& req, Respond& respond) {
    Response res;
    if (!req.has_param("createdTimeFrom")) {
      fail(res, 400, "createdTimeFrom is required to purge by filter");
      return respond(std::move(res));
    }
    auto filter = parse_filter(req);
    if (!filter) {
      fail(res, filter.status());
      return respond(std::move(res));
    }
    // Both run on the purge's thread, once between them.
    auto shared = std::make_shared<Respond>(std::move(respond));
    auto finished = [shared](const PurgeJobs::Progress& p) {
      Response res;
      if (!p.error) {
        fail(res, http_status(p.error), p.error.message());
      } else if (p.purged == 0) {
        fail(res, 404, "no finished instance matches");
      } else {
        reply(res, 200, {{"instancesDeleted", p.purged}});
      }
      (*shared)(std::move(res));
    };
    auto running = [shared, base = base_url_, key = options_.key](const PurgeJobs::Progress& p) {
      Response res;
      std::string location = base + "/purges/" + url_encode(p.id);
      if (!key.empty()) location += "?code=" + url_encode(key);
      res.set_header("Location", location);
      res.set_header("Retry-After", "5");
      json body = progress_json(p);
      body["statusQueryGetUri"] = location;
      reply(res, 202, body);
      (*shared)(std::move(res));
    };
    purges_->start(std::move(*filter), flag(req, "recursive"), std::move(finished), std::move(running));
  });

  on("GET", "/purges/*", [this](const Request& req, Response& res) {
    auto p = purges_->progress(req.matches[0]);
    if (!p) return fail(res, 404, "no purge with id '" + excerpt(req.matches[0]) + "' (or it ended long ago)");
    if (!p->done) {
      res.set_header("Location", base_url_ + "/purges/" + url_encode(p->id));
      res.set_header("Retry-After", "5");
    }
    reply(res, p->done ? 200 : 202, progress_json(*p));
  });
}

Api::~Api() = default;

}  // namespace durable::http
