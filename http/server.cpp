#include "http/server.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/instance_id.hpp"
#include "base/log.hpp"
#include "base/text.hpp"
#include "base/time.hpp"
#include "http/json.hpp"

namespace durable::http {
namespace {

using httplib::Request;
using httplib::Response;
using orchestration::OrchestrationStatus;

const std::string kBase = "/runtime/webhooks/durabletask";
// Deeper bodies are refused: packing them to msgpack recurses per level.
constexpr size_t kMaxJsonDepth = 128;
constexpr size_t kDefaultTop = 100;
constexpr size_t kMaxTop = 1000;
constexpr const char* kContinuation = "x-ms-continuation-token";

void reply(Response& res, int status, const json& body) {
  res.status = status;
  // Ids, names and reasons are client bytes: invalid UTF-8 must not throw.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void fail(Response& res, int status, const std::string& message) { reply(res, status, {{"error", message}}); }

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
    return Status::invalid_argument(std::string("the body is not valid JSON: ") + e.what());
  }
}

Result<OrchestrationStatus> parse_status(std::string_view text) {
  for (uint8_t i = 0; i <= orchestration::kMaxOrchestrationStatus; ++i) {
    const auto s = static_cast<OrchestrationStatus>(i);
    if (iequals(orchestration::status_name(s), text)) return s;
  }
  return Status::invalid_argument("runtimeStatus: unknown status '" + std::string(text) +
                                  "' (Pending, Running, Completed, ContinuedAsNew, Failed, Terminated, Suspended)");
}

// runtimeStatus, createdTimeFrom, createdTimeTo, instanceIdPrefix.
Result<store::InstanceFilter> parse_filter(const Request& req) {
  store::InstanceFilter filter;
  if (req.has_param("runtimeStatus")) {
    const std::string list = req.get_param_value("runtimeStatus");
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
    auto at = parse_utc(req.get_param_value(param));
    if (!at) return Status::invalid_argument(std::string(param) + ": " + at.status().message());
    *field = *at;
  }
  filter.id_prefix = req.get_param_value("instanceIdPrefix");
  return filter;
}

Result<size_t> parse_count(const Request& req, const char* param, size_t fallback, size_t max) {
  if (!req.has_param(param)) return fallback;
  const std::string text = req.get_param_value(param);
  size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::invalid_argument(std::string(param) + ": '" + text + "' is not a whole number");
  }
  return std::min(value, max);
}

bool flag(const Request& req, const char* param) {
  const std::string v = req.get_param_value(param);
  return v == "true" || v == "True" || v == "1";
}

// Where this server is, as the caller reached it.
std::string base_url(const Request& req) {
  const std::string host = req.get_header_value("Host");
  return "http://" + (host.empty() ? std::string("127.0.0.1") : host) + kBase;
}

json check_status(const Request& req, const std::string& id, const std::string& key) {
  const std::string instance = base_url(req) + "/instances/" + url_encode(id);
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
          {"purgeHistoryDeleteUri", with(instance, "")}};
}

// The entity a route's {name}/{key} names (httplib has URL-decoded them).
// Errors: invalid_argument naming the broken rule.
Result<orchestration::EntityId> path_entity(const Request& req) {
  orchestration::EntityId id(std::string(req.matches[1]), req.matches[2]);
  if (Status s = id.validate(); !s) return s;
  return id;
}

// ?scheduledTime=, when given. Errors: invalid_argument naming the parameter.
Result<std::optional<orchestration::TimePoint>> parse_scheduled_time(const Request& req) {
  if (!req.has_param("scheduledTime")) return std::optional<orchestration::TimePoint>();
  auto at = parse_utc(req.get_param_value("scheduledTime"));
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

// One node of GET /cluster.
json node_json(const store::NodeInfo& n) {
  return {{"id", n.id},
          {"live", n.live},
          {"lastHeartbeatMs", n.since_heartbeat.count()},
          {"clusterAddress", n.cluster_address},
          {"httpAddress", n.http_address},
          {"started", format_utc(n.started)},
          {"load", n.load},
          {"partitions", n.partitions}};
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

}  // namespace

Result<HttpOptions> parse_listen_address(std::string_view text) {
  HttpOptions o;
  const size_t colon = text.rfind(':');
  const std::string_view port = colon == std::string_view::npos ? text : text.substr(colon + 1);
  if (colon != std::string_view::npos) o.host = std::string(text.substr(0, colon));
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535 || o.host.empty()) {
    return Status::invalid_argument("'" + std::string(text) + "' is not host:port (e.g. 127.0.0.1:7071)");
  }
  o.port = static_cast<uint16_t>(value);
  return o;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpOptions options, const orchestration::Registry& registry,
                                                      const entities::EntityRegistry& entities,
                                                      client::ClientOptions client_options,
                                                      std::function<Metrics()> metrics) {
  const uint32_t partitions = client_options.partitions;
  const bool hands_off_starts = client_options.hand_off.has_value();
  auto client = client::Client::connect(std::move(client_options));
  if (!client) return client.status();
  std::unique_ptr<HttpServer> self(
      new HttpServer(std::move(options), registry, entities, std::move(*client), partitions, std::move(metrics)));
  self->hands_off_starts_ = hands_off_starts;
  self->routes();
  self->entity_routes();
  self->cluster_routes();
  const HttpOptions& o = self->options_;
  const int port = o.port == 0 ? self->server_->bind_to_any_port(o.host) : (self->server_->bind_to_port(o.host, o.port)
                                                                              ? o.port
                                                                              : -1);
  if (port <= 0) {
    return Status(Errc::unavailable,
                  "cannot listen on " + o.host + ":" + std::to_string(o.port) + " (in use, or not an address here)");
  }
  self->port_ = static_cast<uint16_t>(port);
  self->thread_ = std::thread([s = self.get()] { s->server_->listen_after_bind(); });
  // A stop() before the loop runs would be lost (httplib ignores it) and
  // the join would wait forever.
  for (int i = 0; i < 5000 && !self->server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!self->server_->is_running()) {
    self->stop();
    return Status(Errc::unavailable, "the HTTP server on " + o.host + ":" + std::to_string(self->port_) +
                                         " did not start serving");
  }
  durable::logger("http")->info("serving the HTTP API on http://{}:{}{}", o.host, self->port_, kBase);
  return self;
}

HttpServer::HttpServer(HttpOptions options, const orchestration::Registry& registry,
                       const entities::EntityRegistry& entities, std::unique_ptr<client::Client> client,
                       uint32_t partitions, std::function<Metrics()> metrics)
    : options_(std::move(options)),
      registry_(registry),
      entities_(entities),
      client_(std::move(client)),
      partitions_(partitions),
      metrics_(std::move(metrics)),
      server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::routes() {
  httplib::Server& s = *server_;
  s.set_tcp_nodelay(true);
  s.set_payload_max_length(options_.max_body_bytes);
  s.new_task_queue = [n = options_.threads] { return new httplib::ThreadPool(n); };

  s.set_pre_routing_handler([this](const Request& req, Response& res) {
    if (options_.key.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string bearer = "Bearer " + options_.key;
    if (req.get_param_value("code") == options_.key || req.get_header_value("Authorization") == bearer) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    fail(res, 401, "a key is required: ?code=<key> or 'Authorization: Bearer <key>'");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Routes that match nothing, and bodies over the limit, still get JSON.
  s.set_error_handler([this](const Request& req, Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      fail(res, 413, "the request body is over " + std::to_string(options_.max_body_bytes) + " bytes");
    } else if (res.status == 404) {
      fail(res, 404, "no route for " + req.method + " " + req.path);
    } else if (res.status == 400 && req.method != "GET" && !req.has_header("Content-Length")) {
      fail(res, 400, "a " + req.method + " needs a Content-Length header (send an empty body: curl -d '')");
    } else {
      fail(res, res.status, "malformed request");
    }
  });
  s.set_exception_handler([](const Request& req, Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    durable::logger("http")->error("{} {}: {}", req.method, req.path, what);
    fail(res, 500, "internal error: " + what);
  });

  s.Post(kBase + "/orchestrators/([^/]+)(?:/([^/]+))?", [this](const Request& req, Response& res) {
    const std::string name = req.matches[1];
    const std::string id = req.matches.size() > 2 ? std::string(req.matches[2]) : std::string();
    if (!registry_.find_orchestrator(name)) return fail(res, 400, "unknown orchestrator '" + name + "'");
    auto input = body_json(req);
    if (!input) return fail(res, input.status());
    auto timeout = parse_count(req, "timeout", 0, static_cast<size_t>(options_.max_wait.count()));
    if (!timeout) return fail(res, timeout.status());
    auto started = client_->start(name, payload_from_json(*input), id);
    if (!started) return fail(res, started.status());
    if (!hands_off_starts_) woke(*started);  // else the client gave the start to the node
    // Waits hold a request thread each: past half of them, a start answers
    // at once (as if its wait timed out), so waits never starve other calls.
    if (*timeout > 0) {
      struct Slot {
        std::atomic<size_t>& waits;
        ~Slot() { --waits; }
      } slot{waits_};
      if (waits_.fetch_add(1) < options_.threads / 2) {
        auto done = client_->wait(*started, std::chrono::seconds(*timeout));
        if (done) {
          return reply(res, 200, done->failure ? instance_json(*done, false)["output"] : payload_to_json(done->output));
        }
        if (done.status().code() != Errc::deadline_exceeded) return fail(res, done.status());
      }
    }
    const json status = check_status(req, *started, options_.key);
    res.set_header("Location", status["statusQueryGetUri"].get<std::string>());
    reply(res, 202, status);
  });

  s.Get(kBase + "/instances/([^/]+)", [this](const Request& req, Response& res) {
    const std::string id = req.matches[1];
    if (Status s = validate_instance_id(id); !s) return fail(res, s);  // it names no instance: say why
    const bool history = flag(req, "showHistory");
    auto state = client_->get(id, history);
    if (!state) return fail(res, state.status());
    json body = instance_json(state->row, flag(req, "showInput") || !req.has_param("showInput"));
    if (history) {
      const bool outputs = flag(req, "showHistoryOutput");
      json events = json::array();
      for (const auto& e : state->history) events.push_back(event_json(e, outputs));
      body["historyEvents"] = std::move(events);
    }
    if (orchestration::is_terminal(state->row.status)) return reply(res, 200, body);
    res.set_header("Location", base_url(req) + "/instances/" + url_encode(id));
    res.set_header("Retry-After", "1");
    reply(res, 202, body);
  });

  s.Get(kBase + "/instances", [this](const Request& req, Response& res) {
    auto filter = parse_filter(req);
    if (!filter) return fail(res, filter.status());
    auto top = parse_count(req, "top", kDefaultTop, kMaxTop);
    if (!top) return fail(res, top.status());
    auto page = client_->list(*filter, std::max<size_t>(1, *top), req.get_header_value(kContinuation));
    if (!page) return fail(res, page.status());
    json list = json::array();
    for (const auto& row : page->instances) list.push_back(instance_json(row, flag(req, "showInput")));
    if (!page->continuation.empty()) res.set_header(kContinuation, page->continuation);
    reply(res, 200, list);
  });

  s.Post(kBase + "/instances/([^/]+)/raiseEvent/([^/]+)", [this](const Request& req, Response& res) {
    if (Status s = validate_instance_id(req.matches[1].str()); !s) return fail(res, s);
    auto input = body_json(req);
    if (!input) return fail(res, input.status());
    const Status sent = client_->raise_event(req.matches[1], req.matches[2], payload_from_json(*input));
    if (!sent) return fail(res, sent.code() == Errc::failed_precondition ? 410 : http_status(sent), sent.message());
    woke(req.matches[1]);
    res.status = 202;
  });

  s.Post(kBase + "/instances/([^/]+)/(terminate|suspend|resume)", [this](const Request& req, Response& res) {
    const std::string id = req.matches[1];
    if (Status s = validate_instance_id(id); !s) return fail(res, s);
    const std::string what = req.matches[2];
    const json reason = req.has_param("reason") ? json(req.get_param_value("reason")) : json(nullptr);
    const orchestration::Payload payload = payload_from_json(reason);
    const Status done = what == "terminate" ? client_->terminate(id, payload)
                        : what == "suspend" ? client_->suspend(id, payload)
                                            : client_->resume(id, payload);
    if (!done) return fail(res, done.code() == Errc::failed_precondition ? 410 : http_status(done), done.message());
    woke(id);
    res.status = 202;
  });

  s.Delete(kBase + "/instances/([^/]+)", [this](const Request& req, Response& res) {
    if (Status s = validate_instance_id(req.matches[1].str()); !s) return fail(res, s);
    const Status purged = client_->purge(req.matches[1]);
    if (!purged) return fail(res, purged.code() == Errc::failed_precondition ? 409 : http_status(purged), purged.message());
    reply(res, 200, {{"instancesDeleted", 1}});
  });

  s.Delete(kBase + "/instances", [this](const Request& req, Response& res) {
    if (!req.has_param("createdTimeFrom")) return fail(res, 400, "createdTimeFrom is required to purge by filter");
    auto filter = parse_filter(req);
    if (!filter) return fail(res, filter.status());
    auto purged = client_->purge(*filter);
    if (!purged) return fail(res, purged.status());
    if (*purged == 0) return fail(res, 404, "no finished instance matches");
    reply(res, 200, {{"instancesDeleted", *purged}});
  });

  s.Get(kBase + "/metrics", [this](const Request&, Response& res) {
    if (!metrics_) return fail(res, 404, "this server has no node metrics");
    Metrics m = metrics_();
    auto active = client_->active_by_status();
    if (!active) return fail(res, 503, "redis: " + active.status().message());
    m.unfinished = *active;
    res.set_content(prometheus_text(m), "text/plain; version=0.0.4");
  });

  s.Get(kBase + "/health", [this](const Request&, Response& res) {
    // O(1): Redis answers, and the node's lease rounds reach it.
    if (Status up = client_->ping(); !up) return fail(res, 503, "redis: " + up.message());
    if (options_.health) {
      if (Status node = options_.health(); !node) return fail(res, 503, "node: " + node.message());
    }
    reply(res, 200, {{"status", "ok"}});
  });
}

void HttpServer::entity_routes() {
  httplib::Server& s = *server_;
  // A key with a '/' (an encoded %2F) still matches, so that validate()
  // names the rule rather than the request matching no route.
  const std::string one = kBase + "/entities/([^/]+)/(.+)";

  s.Post(one, [this](const Request& req, Response& res) {
    const std::string op = req.get_param_value("op");
    if (op.empty()) return fail(res, 400, "op is required: the operation to signal (?op=add)");
    auto entity = path_entity(req);
    if (!entity) return fail(res, entity.status());
    // Checked here, not only by the node: a misspelt name would otherwise
    // be accepted and fail later where nobody sees it.
    if (!entities_.find(entity->name())) {
      return fail(res, 400, "no entity named '" + std::string(req.matches[1]) + "' is registered on this node");
    }
    auto input = body_json(req);
    if (!input) return fail(res, input.status());
    auto at = parse_scheduled_time(req);
    if (!at) return fail(res, at.status());
    auto sent = client_->signal_entity(*entity, op, payload_from_json(*input), req.get_param_value("requestId"), *at);
    if (!sent) return fail(res, sent.status());
    if (!*at) woke(entity->instance_id());  // a signal for later waits for its timer
    reply(res, 202, {{"requestId", *sent}});
  });

  s.Get(one, [this](const Request& req, Response& res) {
    auto entity = path_entity(req);
    if (!entity) return fail(res, entity.status());
    auto got = client_->get_entity(*entity);
    if (!got) return fail(res, got.status());
    if (!got->state) return fail(res, 404, "entity " + entity->name() + "@" + entity->key() + " has no state");
    reply(res, 200, payload_to_json(*got->state));
  });

  // The prefix is optional: without it, every entity.
  s.Get(kBase + "/entities(?:/([^/]+))?", [this](const Request& req, Response& res) {
    const std::string prefix = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
    auto top = parse_count(req, "top", kDefaultTop, kMaxTop);
    if (!top) return fail(res, top.status());
    auto page = client_->list_entities(prefix, std::max<size_t>(1, *top), req.get_header_value(kContinuation),
                                       flag(req, "includeDeleted"));
    if (!page) return fail(res, page.status());
    json list = json::array();
    for (const auto& e : page->entities) list.push_back(entity_json(e, flag(req, "fetchState")));
    if (!page->continuation.empty()) res.set_header(kContinuation, page->continuation);
    reply(res, 200, list);
  });

  s.Delete(one, [this](const Request& req, Response& res) {
    auto entity = path_entity(req);
    if (!entity) return fail(res, entity.status());
    auto sent = client_->delete_entity(*entity, req.get_param_value("requestId"));
    if (!sent) return fail(res, sent.status());
    woke(entity->instance_id());
    reply(res, 202, {{"requestId", *sent}});
  });

  s.Post(kBase + "/cleanEntityStorage", [this](const Request&, Response& res) {
    auto cleaned = client_->clean_entity_storage();
    if (!cleaned) return fail(res, cleaned.status());
    reply(res, 200, {{"emptyEntitiesRemoved", cleaned->removed}, {"orphanedLocksReleased", cleaned->locks_released}});
  });
}

void HttpServer::cluster_routes() {
  server_->Get(kBase + "/cluster", [this](const Request&, Response& res) {
    auto nodes = client_->nodes();
    if (!nodes) return fail(res, 503, "redis: " + nodes.status().message());
    // By id, not by last heartbeat (Redis' order), so a table reads the same every time.
    std::sort(nodes->begin(), nodes->end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    json list = json::array();
    for (const auto& n : *nodes) list.push_back(node_json(n));
    reply(res, 200, {{"nodes", std::move(list)}, {"partitions", partitions_}, {"unowned", unowned(*nodes, partitions_)}});
  });
}

}  // namespace durable::http
