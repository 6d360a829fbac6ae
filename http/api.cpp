#include "http/api.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/instance_id.hpp"
#include "base/log.hpp"
#include "base/text.hpp"
#include "base/time.hpp"
#include "http/dashboard.hpp"
#include "http/json.hpp"
#include "http/purge_jobs.hpp"
#include "http/route_support.hpp"
#include "client/waits.hpp"

namespace durable::http {
namespace {

using orchestration::OrchestrationStatus;

const std::string kBase = "/runtime/webhooks/durabletask";
constexpr size_t kDefaultTop = 100;
constexpr size_t kMaxTop = 1000;
constexpr const char* kContinuation = "x-ms-continuation-token";

// The entity a route's {name}/{key} names (decoded by the router).
// Errors: invalid_argument naming the broken rule.
Result<orchestration::EntityId> path_entity(const Request& req) {
  orchestration::EntityId id(req.matches[0], req.matches[1]);
  if (Status s = id.validate(); !s) return s;
  return id;
}

// ?scheduledTime=, when given. Errors: invalid_argument naming the parameter.
Result<std::optional<orchestration::TimePoint>> parse_scheduled_time(const Request& req) {
  if (!req.has_param("scheduledTime")) return std::optional<orchestration::TimePoint>();
  auto at = parse_utc(req.param("scheduledTime"));
  if (!at) return Status::invalid_argument("scheduledTime: " + at.status().message());
  return std::optional<orchestration::TimePoint>(*at);
}

// One entity of a listing, as Durable Functions' entity queries show it.
json entity_json(const client::EntityState& e, bool with_state) {
  json j = {{"entityId", {{"name", e.id.name()}, {"key", e.id.key()}}},
            {"lastOperationTime", format_utc(e.updated)}};
  if (with_state) j["state"] = e.state ? payload_to_json(*e.state) : json(nullptr);
  if (e.locked_by) j["lockedBy"] = *e.locked_by;
  return j;
}

// What a node runs: its version and strategy, and the names it registered
// (an orchestrator registered for some versions only as "Name@1.0,1.5").
json code_json(const orchestration::NodeCode& code) {
  json orchestrators = json::array();
  for (const auto& o : code.orchestrators) {
    std::string entry = o.name;
    for (size_t i = 0; i < o.versions.size(); ++i) entry += (i == 0 ? "@" : ",") + o.versions[i];
    orchestrators.push_back(std::move(entry));
  }
  return {{"version", code.policy.version},
          {"versionMatch", orchestration::to_string(code.policy.match)},
          {"versionFailure", orchestration::to_string(code.policy.failure)},
          {"orchestrators", std::move(orchestrators)},
          {"activities", code.activities},
          {"entities", code.entities}};
}

// A node's recent rates, oldest interval first; null for a node that
// publishes none (one from before them).
json rates_json(const store::NodeRates& r) {
  if (r.interval.count() <= 0) return nullptr;
  json latency = json::array();
  for (const auto& ms : r.commit_latency_ms) latency.push_back(ms ? json(*ms) : json(nullptr));
  return {{"intervalSeconds", std::chrono::duration<double>(r.interval).count()},
          {"until", r.until == store::TimePoint{} ? json(nullptr) : json(format_utc(r.until))},
          {"episodes", r.episodes},
          {"activities", r.activities},
          {"entityOperations", r.entity_operations},
          {"commitLatencyMs", std::move(latency)}};
}

// One node of GET /cluster.
json node_json(const store::NodeInfo& n) {
  return {{"id", n.id},
          {"live", n.live},
          {"lastHeartbeatMs", n.since_heartbeat.count()},
          {"clusterAddress", n.cluster_address},
          {"httpAddress", n.http_address},
          {"grpc", n.grpc_address},
          {"grpcWorkers", n.protocol_workers},
          {"started", format_utc(n.started)},
          {"load", n.load},
          {"workers", n.workers},
          {"partitions", n.partitions},
          {"code", code_json(n.code)},
          {"rates", rates_json(n.rates)}};
}

// Each partition's owner by its unexpired lease, indexed by partition
// (null: none).
json owners_json(const std::vector<store::NodeInfo>& nodes, uint32_t count) {
  json owners(count, nullptr);  // count x null
  for (const auto& n : nodes) {
    for (uint32_t p : n.partitions) {
      if (p < count) owners[p] = n.id;
    }
  }
  return owners;
}

// The partitions of [0, count) that no node's unexpired lease owns: between
// an owner's expiry and a successor's take-over, nobody runs them.
std::vector<uint32_t> unowned(const std::vector<store::NodeInfo>& nodes, uint32_t count) {
  std::vector<bool> owned(count, false);
  for (const auto& n : nodes) {
    for (uint32_t p : n.partitions) {
      if (p < count) owned[p] = true;
    }
  }
  std::vector<uint32_t> out;
  for (uint32_t p = 0; p < count; ++p) {
    if (!owned[p]) out.push_back(p);
  }
  return out;
}

// Whether the request carries `key`, as ?code= or a bearer token.
bool has_key(const Request& req, const std::string& key) {
  const std::string auth = req.header("Authorization");
  const bool bearer = auth.rfind("Bearer ", 0) == 0 && equal_in_constant_time(std::string_view(auth).substr(7), key);
  return equal_in_constant_time(req.param("code"), key) || bearer;
}

// Whether `segments` (after the base path) fit `pattern`; fills `matches`
// with what the wildcards matched, decoded.
bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& segments, size_t from,
             std::vector<std::string>& out) {
  out.clear();
  size_t i = from;
  for (const std::string& p : pattern) {
    if (i >= segments.size()) return false;
    if (p == "**") {  // the rest, '/' and all: a key with an encoded '/' still matches
      std::string rest = segments[i];
      for (++i; i < segments.size(); ++i) rest += "/" + segments[i];
      out.push_back(url_decode(rest, false));
      return true;
    }
    if (p == "*") {
      out.push_back(url_decode(segments[i], false));
    } else if (segments[i] != p) {
      return false;
    }
    ++i;
  }
  return i == segments.size();
}

}  // namespace

Api::Api(const HttpOptions& options, std::string base_url, const orchestration::Registry& registry,
         const entities::EntityRegistry& entities, client::Client& client, uint32_t partitions,
         std::function<Metrics()> metrics, client::Waits& waits, bool hands_off_starts)
    : options_(options),
      base_url_(std::move(base_url) + kBase),
      registry_(registry),
      entities_(entities),
      client_(client),
      partitions_(partitions),
      metrics_(std::move(metrics)),
      waits_(waits),
      hands_off_starts_(hands_off_starts) {
  purges_ = std::make_unique<PurgeJobs>(client, options.purge_answer_within);
  lifecycle_routes();  // before instance_routes: its /instances/*/rewind is more specific than /instances/*/*
  instance_routes();
  entity_routes();
  dead_letter_routes();
  node_routes();
}

Response Api::error(int status, const std::string& message) {
  Response res;
  fail(res, status, message);
  return res;
}

void Api::on(std::string method, std::string pattern, std::function<void(const Request&, Response&)> handler) {
  on_later(std::move(method), std::move(pattern), [handler = std::move(handler)](Request& req, Respond& respond) {
    Response res;
    handler(req, res);
    respond(std::move(res));
  });
}

void Api::on_later(std::string method, std::string pattern, Handler handler) {
  Route route{std::move(method), {}, std::move(handler)};
  for (size_t start = 1; start < pattern.size();) {
    const size_t slash = std::min(pattern.find('/', start), pattern.size());
    route.pattern.push_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  routes_.push_back(std::move(route));
}

void Api::handle(Request req, Respond respond) const {
  // The dashboard's pages hold no data: no key for them (their calls here need it).
  if (auto page = serve_dashboard(req)) return respond(std::move(*page));
  if (!options_.key.empty() && !has_key(req, options_.key)) {
    return respond(error(401, "a key is required: ?code=<key> or 'Authorization: Bearer <key>'"));
  }
  static const std::vector<std::string> kBaseSegments = {"runtime", "webhooks", "durabletask"};
  const bool under_base = req.segments.size() >= kBaseSegments.size() &&
                          std::equal(kBaseSegments.begin(), kBaseSegments.end(), req.segments.begin());
  const Route* route = nullptr;
  if (under_base) {
    for (const Route& r : routes_) {
      if (r.method == req.method && matches(r.pattern, req.segments, kBaseSegments.size(), req.matches)) {
        route = &r;
        break;
      }
    }
  }
  if (!route) return respond(error(404, "no route for " + req.method + " " + excerpt(req.path)));
  try {
    route->handler(req, respond);
  } catch (const std::exception& e) {
    durable::logger("http")->error("{} {}: {}", req.method, excerpt(req.path), e.what());
    respond(error(500, std::string("internal error: ") + e.what()));
  }
}

void Api::start(Request& req, Respond& respond) const {
  const std::string& name = req.matches[0];
  const std::string id = req.matches.size() > 1 ? req.matches[1] : std::string();
  if (!registry_.has_orchestrator(name) && !(options_.served_by_workers && options_.served_by_workers(name))) {
    return respond(error(400, "unknown orchestrator '" + excerpt(name) + "': not registered on this node, and "
                              "no connected Durable Task worker serves it"));
  }
  auto input = body_json(req);
  if (!input) return respond(error(http_status(input.status()), input.status().message()));
  auto timeout = parse_count(req, "timeout", 0, static_cast<size_t>(options_.max_wait.count()));
  if (!timeout) return respond(error(400, timeout.status().message()));
  // ?version=: the instance's version (empty or absent: the node's).
  client::Client::StartOptions start_options;
  start_options.instance_id = id;
  start_options.version = req.param("version");
  auto started = client_.start(name, payload_from_json(*input), start_options);
  if (!started) return respond(error(http_status(started.status()), started.status().message()));
  if (!hands_off_starts_) wake_owner(*started);  // else the client gave the start to the node
  // The links, for when the instance has not finished in time.
  auto accepted = [links = check_status(base_url_, *started, options_.key)] {
    Response res;
    res.set_header("Location", links["statusQueryGetUri"].get<std::string>());
    reply(res, 202, links);
    return res;
  };
  if (*timeout == 0) return respond(accepted());
  waits_.wait(*started, client::Waits::Until::finished, std::chrono::seconds(*timeout),
              [respond = std::move(respond), accepted](Result<std::optional<store::InstanceRow>> done) {
                if (!done) return respond(error(http_status(done.status()), done.status().message()));
                if (!*done) return respond(accepted());
                const store::InstanceRow& row = **done;
                Response res;
                reply(res, 200, row.failure ? instance_json(row, false)["output"] : payload_to_json(row.output));
                respond(std::move(res));
              });
}

void Api::instance_routes() {
  on_later("POST", "/orchestrators/*", [this](Request& req, Respond& respond) { start(req, respond); });
  on_later("POST", "/orchestrators/*/*", [this](Request& req, Respond& respond) { start(req, respond); });

  on("GET", "/instances/*", [this](const Request& req, Response& res) {
    const std::string id = req.matches[0];
    if (Status s = validate_instance_id(id); !s) return fail(res, s);  // it names no instance: say why
    const bool history = flag(req, "showHistory");
    auto state = client_.get(id, history);
    if (!state) return fail(res, state.status());
    json body = instance_json(state->row, flag(req, "showInput") || !req.has_param("showInput"));
    if (history) {
      const bool outputs = flag(req, "showHistoryOutput");
      json events = json::array();
      for (const auto& e : state->history) events.push_back(event_json(e, outputs));
      body["historyEvents"] = std::move(events);
    }
    if (orchestration::is_terminal(state->row.status)) return reply(res, 200, body);
    res.set_header("Location", base_url_ + "/instances/" + url_encode(id));
    res.set_header("Retry-After", "1");
    reply(res, 202, body);
  });

  on("GET", "/instances", [this](const Request& req, Response& res) {
    auto filter = parse_filter(req);
    if (!filter) return fail(res, filter.status());
    auto top = parse_count(req, "top", kDefaultTop, kMaxTop);
    if (!top) return fail(res, top.status());
    auto page = client_.list(*filter, std::max<size_t>(1, *top), req.header(kContinuation));
    if (!page) return fail(res, page.status());
    json list = json::array();
    for (const auto& row : page->instances) list.push_back(instance_json(row, flag(req, "showInput")));
    if (!page->continuation.empty()) res.set_header(kContinuation, page->continuation);
    reply(res, 200, list);
  });

  on("GET", "/instanceCounts", [this](const Request& req, Response& res) {
    auto filter = parse_filter(req);
    if (!filter) return fail(res, filter.status());
    if (!filter->statuses.empty() || !filter->id_prefix.empty()) {
      return fail(res, 400, "instanceCounts takes createdTimeFrom and createdTimeTo only (it counts every status)");
    }
    auto counts = client_.count_by_status(filter->created_from, filter->created_to);
    if (!counts) return fail(res, counts.status());
    json body = json::object();
    for (uint8_t s = 0; s <= orchestration::kMaxOrchestrationStatus; ++s) {
      body[std::string(orchestration::status_name(static_cast<OrchestrationStatus>(s)))] = (*counts)[s];
    }
    reply(res, 200, body);
  });

  on("POST", "/instances/*/raiseEvent/*", [this](const Request& req, Response& res) {
    if (Status s = validate_instance_id(req.matches[0]); !s) return fail(res, s);
    auto input = body_json(req);
    if (!input) return fail(res, input.status());
    const Status sent = client_.raise_event(req.matches[0], req.matches[1], payload_from_json(*input));
    if (!sent) return fail(res, sent.code() == Errc::failed_precondition ? 410 : http_status(sent), sent.message());
    wake_owner(req.matches[0]);
    res.status = 202;
  });

  on("POST", "/instances/*/*", [this](const Request& req, Response& res) {
    const std::string id = req.matches[0];
    if (Status s = validate_instance_id(id); !s) return fail(res, s);
    const std::string what = req.matches[1];
    if (what != "terminate" && what != "suspend" && what != "resume") {
      return fail(res, 404, "no route for " + req.method + " " + excerpt(req.path));
    }
    const json reason = req.has_param("reason") ? json(req.param("reason")) : json(nullptr);
    const orchestration::Payload payload = payload_from_json(reason);
    const Status done = what == "terminate" ? client_.terminate(id, payload, flag(req, "recursive"))
                        : what == "suspend" ? client_.suspend(id, payload)
                                            : client_.resume(id, payload);
    if (!done) return fail(res, done.code() == Errc::failed_precondition ? 410 : http_status(done), done.message());
    wake_owner(id);
    res.status = 202;
  });

  on("GET", "/metrics", [this](const Request&, Response& res) {
    if (!metrics_) return fail(res, 404, "this server has no node metrics");
    Metrics m = metrics_();
    auto active = client_.active_by_status();
    if (!active) return fail(res, 503, "redis: " + active.status().message());
    m.unfinished = *active;
    res.set_content(prometheus_text(m), "text/plain; version=0.0.4");
  });

  on("GET", "/health", [this](const Request&, Response& res) {
    // O(1): Redis answers, and the node's lease rounds reach it.
    if (Status up = client_.ping(); !up) return fail(res, 503, "redis: " + up.message());
    if (options_.health) {
      if (Status node = options_.health(); !node) return fail(res, 503, "node: " + node.message());
    }
    reply(res, 200, {{"status", "ok"}});
  });
}

void Api::entity_routes() {
  // "**": a key with a '/' (an encoded %2F) still matches, so that
  // validate() names the rule rather than the request matching no route.
  on("POST", "/entities/*/**", [this](const Request& req, Response& res) {
    const std::string op = req.param("op");
    if (op.empty()) return fail(res, 400, "op is required: the operation to signal (?op=add)");
    auto entity = path_entity(req);
    if (!entity) return fail(res, entity.status());
    // Checked here, not only by the node: a misspelt name would otherwise
    // be accepted and fail later where nobody sees it.
    if (!entities_.find(entity->name())) {
      return fail(res, 400, "no entity named '" + excerpt(req.matches[0]) + "' is registered on this node");
    }
    auto input = body_json(req);
    if (!input) return fail(res, input.status());
    auto at = parse_scheduled_time(req);
    if (!at) return fail(res, at.status());
    auto sent = client_.signal_entity(*entity, op, payload_from_json(*input), req.param("requestId"), *at);
    if (!sent) return fail(res, sent.status());
    if (!*at) wake_owner(entity->instance_id());  // a signal for later waits for its timer
    reply(res, 202, {{"requestId", *sent}});
  });

  on("GET", "/entities/*/**", [this](const Request& req, Response& res) {
    auto entity = path_entity(req);
    if (!entity) return fail(res, entity.status());
    auto got = client_.get_entity(*entity);
    if (!got) return fail(res, got.status());
    if (!got->state) return fail(res, 404, "entity " + entity->name() + "@" + entity->key() + " has no state");
    reply(res, 200, payload_to_json(*got->state));
  });

  // The prefix is optional: without it, every entity.
  const auto list = [this](const Request& req, Response& res) {
    const std::string prefix = req.matches.empty() ? std::string() : req.matches[0];
    auto top = parse_count(req, "top", kDefaultTop, kMaxTop);
    if (!top) return fail(res, top.status());
    auto page = client_.list_entities(prefix, std::max<size_t>(1, *top), req.header(kContinuation),
                                      flag(req, "includeDeleted"));
    if (!page) return fail(res, page.status());
    json list = json::array();
    for (const auto& e : page->entities) list.push_back(entity_json(e, flag(req, "fetchState")));
    if (!page->continuation.empty()) res.set_header(kContinuation, page->continuation);
    reply(res, 200, list);
  };
  on("GET", "/entities", list);
  on("GET", "/entities/*", list);

  on("DELETE", "/entities/*/**", [this](const Request& req, Response& res) {
    auto entity = path_entity(req);
    if (!entity) return fail(res, entity.status());
    auto sent = client_.delete_entity(*entity, req.param("requestId"));
    if (!sent) return fail(res, sent.status());
    wake_owner(entity->instance_id());
    reply(res, 202, {{"requestId", *sent}});
  });

  on("POST", "/cleanEntityStorage", [this](const Request&, Response& res) {
    auto cleaned = client_.clean_entity_storage();
    if (!cleaned) return fail(res, cleaned.status());
    reply(res, 200, {{"emptyEntitiesRemoved", cleaned->removed}, {"orphanedLocksReleased", cleaned->locks_released}});
  });
}

void Api::node_routes() {
  on("GET", "/cluster", [this](const Request&, Response& res) {
    auto nodes = client_.nodes();
    if (!nodes) return fail(res, 503, "redis: " + nodes.status().message());
    // By id, not by last heartbeat (Redis' order), so a table reads the same every time.
    std::sort(nodes->begin(), nodes->end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    json list = json::array();
    for (const auto& n : *nodes) list.push_back(node_json(n));
    reply(res, 200, {{"nodes", std::move(list)},
                     {"partitions", partitions_},
                     {"owners", owners_json(*nodes, partitions_)},
                     {"unowned", unowned(*nodes, partitions_)}});
  });
}

}  // namespace durable::http
