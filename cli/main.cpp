// durable: the command-line tool. Talks to a node over its HTTP API.
//
// Exit codes: 0 ok; 1 the instance failed, was terminated or was not found,
// or the entity was not found (or the node could not be reached); 2 usage
// (bad flags, invalid JSON, a request the node refused as malformed).

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "base/text.hpp"
#include "cli/api.hpp"
#include "cli/output.hpp"
#include "orchestration/entity_id.hpp"

namespace {

using namespace durable;
using namespace durable::cli;
using Clock = std::chrono::steady_clock;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct Global {
  std::string url = "http://127.0.0.1:7071";
  std::string key;
  bool json = false;
};

int fail(int code, const std::string& message) {
  std::cerr << "durable: " << message << '\n';
  return code;
}

// A reply that is not what the command wanted: its error on stderr.
int refused(const Reply& r) {
  const std::string message = r.body.is_object() && r.body.contains("error") && r.body["error"].is_string()
                                  ? r.body["error"].get<std::string>()
                                  : "the node answered HTTP " + std::to_string(r.status);
  const bool usage = r.status == 400 || r.status == 401 || r.status == 413;
  return fail(usage ? kUsage : kFailed, message);
}

// `text` as a JSON document; std::nullopt (and a message) when it is not one.
std::optional<std::string> json_argument(const std::string& text, const char* what) {
  if (text.empty()) return std::string();
  const json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    std::cerr << "durable: " << what << " is not valid JSON: " << text << '\n';
    return std::nullopt;
  }
  return parsed.dump();
}

int exit_for(const json& status) {
  const std::string s = status.value("runtimeStatus", "");
  return s == "Failed" || s == "Terminated" ? kFailed : kOk;
}

void show(const Global& g, const json& status) {
  if (g.json) {
    std::cout << status.dump(2) << '\n';
  } else {
    print_instance(std::cout, status);
  }
}

// Polls until the instance has finished or `seconds` passed; shows progress
// when stderr is a terminal.
int wait_for(Api& api, const Global& g, const std::string& id, double seconds) {
  const bool terminal = ::isatty(STDERR_FILENO) && !g.json;
  const auto start = Clock::now();
  auto delay = std::chrono::milliseconds(100);
  for (;;) {
    auto r = api.call("GET", "/instances/" + url_encode(id));
    if (!r) return fail(kFailed, r.status().message());
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (r->status == 200) {
      if (terminal) std::cerr << "\r\033[K";
      show(g, r->body);
      return exit_for(r->body);
    }
    if (r->status != 202) return refused(*r);
    const std::string status = r->body.value("runtimeStatus", "?");
    if (elapsed >= seconds) {
      if (terminal) std::cerr << '\n';
      return fail(kFailed, id + " is still " + status + " after " + std::to_string(static_cast<int>(seconds)) + " s");
    }
    if (terminal) std::cerr << "\r\033[K" << id << ": " << status << " (" << static_cast<int>(elapsed) << " s)" << std::flush;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

std::string query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    q += (q.empty() ? "?" : "&") + name + "=" + url_encode(value);
  }
  return q;
}

// "/entities/{name}/{key}" for an entity id written name@key (or @name@key),
// with the name as written: the node's errors then quote it so.
// Errors: invalid_argument naming the broken rule.
Result<std::string> entity_path(std::string_view text) {
  auto id = orchestration::EntityId::parse(text);
  if (!id) return id.status();
  if (text.starts_with('@')) text.remove_prefix(1);
  const std::string_view name = text.substr(0, text.find('@'));
  return "/entities/" + url_encode(name) + "/" + url_encode(id->key());
}

struct SignalArgs {
  std::string entity;
  std::string operation;
  std::string input;
  std::string request_id;
  std::string at;
};

int signal_entity(Api& api, const Global& g, const SignalArgs& a) {
  auto path = entity_path(a.entity);
  if (!path) return fail(kUsage, path.status().message());
  auto body = json_argument(a.input, "the operation's input");
  if (!body) return kUsage;
  auto r = api.call("POST",
                    *path + query({{"op", a.operation}, {"requestId", a.request_id}, {"scheduledTime", a.at}}),
                    *body);
  if (!r) return fail(kFailed, r.status().message());
  if (r->status != 202) return refused(*r);
  // The bare id, so that a script can keep it to retry with --request-id.
  std::cout << (g.json ? r->body.dump(2) : r->body["requestId"].get<std::string>()) << '\n';
  return kOk;
}

int get_entity(Api& api, const std::string& entity) {
  auto path = entity_path(entity);
  if (!path) return fail(kUsage, path.status().message());
  auto r = api.call("GET", *path);
  if (!r) return fail(kFailed, r.status().message());
  if (r->status != 200) return refused(*r);
  std::cout << r->body.dump(2) << '\n';
  return kOk;
}

// Every page, or the first `top` entities when top > 0.
int list_entities(Api& api, const Global& g, const std::string& prefix, size_t top, bool with_empty) {
  const std::string path = "/entities" + (prefix.empty() ? "" : "/" + url_encode(prefix));
  json all = json::array();
  std::string token;
  do {
    const size_t want = top > 0 ? std::min<size_t>(top - all.size(), 1000) : 1000;
    auto r = api.call("GET",
                      path + query({{"fetchState", "true"},
                                    {"includeDeleted", with_empty ? "true" : ""},
                                    {"top", std::to_string(want)}}),
                      "", token);
    if (!r) return fail(kFailed, r.status().message());
    if (r->status != 200) return refused(*r);
    if (!r->body.is_array()) break;
    for (json& e : r->body) all.push_back(std::move(e));
    token = r->continuation;
  } while (!token.empty() && (top == 0 || all.size() < top));
  if (g.json) {
    std::cout << all.dump(2) << '\n';
  } else {
    print_entities(std::cout, all);
  }
  return kOk;
}

int delete_entity(Api& api, const Global& g, const std::string& entity) {
  auto path = entity_path(entity);
  if (!path) return fail(kUsage, path.status().message());
  auto r = api.call("DELETE", *path);
  if (!r) return fail(kFailed, r.status().message());
  if (r->status != 202) return refused(*r);
  if (g.json) {
    std::cout << r->body.dump(2) << '\n';
  } else {
    std::cout << "delete sent to " << entity << '\n';
  }
  return kOk;
}

int clean_entities(Api& api, const Global& g) {
  auto r = api.call("POST", "/cleanEntityStorage");
  if (!r) return fail(kFailed, r.status().message());
  if (r->status != 200) return refused(*r);
  if (g.json) {
    std::cout << r->body.dump(2) << '\n';
  } else {
    std::cout << "removed " << r->body.value("emptyEntitiesRemoved", 0) << " empty entities, released "
              << r->body.value("orphanedLocksReleased", 0) << " orphaned locks\n";
  }
  return kOk;
}

int show_cluster(Api& api, const Global& g) {
  auto r = api.call("GET", "/cluster");
  if (!r) return fail(kFailed, r.status().message());
  if (r->status != 200) return refused(*r);
  if (g.json) {
    std::cout << r->body.dump(2) << '\n';
  } else {
    print_cluster(std::cout, r->body);
  }
  return kOk;
}

// `durable dead-letters [list|show ID|retry ID|discard ID]`.
int dead_letters(Api& api, const Global& g, const std::string& action, const std::string& id, size_t top) {
  if (action != "list" && id.empty()) return fail(kUsage, "dead-letters " + action + " needs the dead letter's ID");
  if (action == "list") {
    json all = json::array();
    std::string token;
    do {
      auto r = api.call("GET", "/deadLetters" + query({{"top", std::to_string(std::min<size_t>(top - all.size(), 1000))}}),
                        "", token);
      if (!r) return fail(kFailed, r.status().message());
      if (r->status != 200) return refused(*r);
      for (json& d : r->body) all.push_back(std::move(d));
      token = r->continuation;
    } while (!token.empty() && all.size() < top);
    if (g.json) {
      std::cout << all.dump(2) << '\n';
    } else {
      print_dead_letters(std::cout, all);
    }
    return kOk;
  }
  const std::string path = "/deadLetters/" + url_encode(id);
  auto r = action == "show"    ? api.call("GET", path)
           : action == "retry" ? api.call("POST", path + "/retry")
                               : api.call("DELETE", path);
  if (!r) return fail(kFailed, r.status().message());
  if (r->status != (action == "retry" ? 202 : 200)) return refused(*r);
  if (g.json || action == "show") {
    std::cout << r->body.dump(2) << '\n';
  } else {
    std::cout << (action == "retry" ? "put back into the inbox of " + r->body.value("instanceId", std::string()) : "discarded " + id)
              << '\n';
  }
  return kOk;
}

}  // namespace

static int run(int argc, char** argv) {
  Global g;
  CLI::App app{"durable: start, watch and control durable orchestrations and entities on a node (over its HTTP API)"};
  app.fallthrough();
  app.require_subcommand(1);
  app.add_option("--url", g.url, "the node's HTTP API")->envname("DURABLE_URL")->capture_default_str();
  app.add_option("--key", g.key, "the node's --http-key, if it has one (better in DURABLE_KEY: ps shows arguments)")
      ->envname("DURABLE_KEY");
  app.add_flag("--json", g.json, "print JSON (for scripts)");

  std::string name, id, input, event, reason, status_filter, prefix, from, to, version;
  double wait_seconds = 0;
  int top = 100;
  bool history = false;

  auto* start = app.add_subcommand("start", "start an orchestration");
  start->add_option("NAME", name, "orchestrator name")->required();
  start->add_option("--id", id, "instance id (default: a new GUID)");
  start->add_option("--input", input, "input as JSON");
  start->add_option("--version", version, "the instance's orchestration version (default: the node's --version)");
  auto* wait_flag = start->add_option("--wait", wait_seconds, "wait until it finishes (at most SECONDS, default 60)")
                        ->expected(0, 1)
                        ->default_str("60");

  auto* status = app.add_subcommand("status", "show an instance");
  status->add_option("ID", id)->required();
  status->add_flag("--history", history, "also show its history");

  auto* wait = app.add_subcommand("wait", "wait until an instance finishes");
  wait->add_option("ID", id)->required();
  wait->add_option("--timeout", wait_seconds, "seconds")->default_val(60);

  auto* raise = app.add_subcommand("raise", "raise an event");
  raise->add_option("ID", id)->required();
  raise->add_option("EVENT", event)->required();
  raise->add_option("JSON", input, "the event's data");

  bool recursive = false, new_id = false;
  std::map<std::string, CLI::App*> controls;
  for (const char* what : {"terminate", "suspend", "resume", "rewind"}) {
    auto* c = app.add_subcommand(what, what == std::string("rewind") ? "run a Failed instance's failed tasks again"
                                                                     : std::string(what) + " an instance");
    c->add_option("ID", id)->required();
    c->add_option("--reason", reason);
    controls[what] = c;
  }
  controls["terminate"]->add_flag("--recursive", recursive, "its sub-orchestrations too, and theirs");
  auto* restart = app.add_subcommand("restart", "start a finished instance again with its input");
  restart->add_option("ID", id)->required();
  restart->add_flag("--new-id", new_id, "under a new id (default: the same id, replacing the finished run)");

  auto* purge = app.add_subcommand("purge", "delete finished instances: one by ID, or by --from/--to/--status");
  purge->add_option("ID", id);
  purge->add_option("--status", status_filter, "comma list: Completed,Failed,Terminated");
  purge->add_option("--from", from, "created at or after (UTC, e.g. 2026-11-23T00:00:00Z)");
  purge->add_option("--to", to, "created at or before");
  purge->add_flag("--recursive", recursive, "their sub-orchestrations too, and theirs");

  auto* list = app.add_subcommand("list", "list instances");
  list->add_option("--status", status_filter, "comma list, e.g. Running,Pending");
  list->add_option("--prefix", prefix, "instance id prefix");
  list->add_option("--top", top, "at most this many")->check(CLI::PositiveNumber)->capture_default_str();

  auto* hist = app.add_subcommand("history", "an instance's history as a table");
  hist->add_option("ID", id)->required();

  SignalArgs signal_args;
  auto* signal = app.add_subcommand("signal", "signal an operation on an entity (one-way); prints the request id");
  signal->add_option("ENTITY", signal_args.entity, "name@key, e.g. Counter@c1")->required();
  signal->add_option("OP", signal_args.operation, "the operation")->required();
  signal->add_option("JSON", signal_args.input, "the operation's input");
  signal->add_option("--request-id", signal_args.request_id, "an id of your own: a retry with it is applied once");
  signal->add_option("--at", signal_args.at, "deliver at this time (UTC, e.g. 2026-11-23T10:00:00Z)");

  auto* entity = app.add_subcommand("entity", "show, list, delete and clean up entities");
  entity->require_subcommand(1);
  std::string entity_id;
  auto* entity_get = entity->add_subcommand("get", "an entity's state as JSON");
  entity_get->add_option("ENTITY", entity_id, "name@key")->required();
  size_t entity_top = 0;
  bool with_empty = false;
  auto* entity_list = entity->add_subcommand("list", "entities, with their state");
  entity_list->add_option("PREFIX", prefix, "name, or name@key prefix");
  entity_list->add_option("--top", entity_top, "at most this many (default: all)")->check(CLI::PositiveNumber);
  entity_list->add_flag("--all", with_empty, "also entities without state");
  auto* entity_delete = entity->add_subcommand("delete", "delete an entity's state (after its queued messages)");
  entity_delete->add_option("ENTITY", entity_id, "name@key")->required();
  auto* entity_clean = entity->add_subcommand("clean", "remove empty entities' storage, release orphaned locks");

  auto* cluster = app.add_subcommand("cluster", "the cluster's nodes, which partitions each owns, and any unowned");

  std::string dead_action = "list", dead_id;
  size_t dead_top = 100;
  auto* dead = app.add_subcommand("dead-letters", "messages that could not be processed: list, show, retry, discard");
  dead->add_option("ACTION", dead_action, "list (default), show, retry (back into its inbox) or discard")
      ->check(CLI::IsMember({"list", "show", "retry", "discard"}));
  dead->add_option("ID", dead_id, "the dead letter's id, as listed");
  dead->add_option("--top", dead_top, "list at most this many")->check(CLI::PositiveNumber)->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return kUsage;
  }

  Api api(g.url, g.key);

  if (start->parsed()) {
    auto body = json_argument(input, "--input");
    if (!body) return kUsage;
    const std::string query = version.empty() ? "" : "?version=" + url_encode(version);
    auto r = api.call("POST", "/orchestrators/" + url_encode(name) + (id.empty() ? "" : "/" + url_encode(id)) + query,
                      *body);
    if (!r) return fail(kFailed, r.status().message());
    if (r->status != 202) return refused(*r);
    const std::string started = r->body["id"];
    if (wait_flag->count() > 0) return wait_for(api, g, started, wait_seconds);
    if (g.json) {
      std::cout << r->body.dump(2) << '\n';
    } else {
      std::cout << "started " << started << '\n';
    }
    return kOk;
  }
  if (status->parsed() || hist->parsed()) {
    const bool events = history || hist->parsed();
    auto r = api.call("GET", "/instances/" + url_encode(id) + (events ? "?showHistory=true&showHistoryOutput=true" : ""));
    if (!r) return fail(kFailed, r.status().message());
    if (r->status != 200 && r->status != 202) return refused(*r);
    if (g.json) {
      std::cout << (hist->parsed() ? r->body["historyEvents"] : r->body).dump(2) << '\n';
    } else {
      if (status->parsed()) print_instance(std::cout, r->body);
      if (events) print_history(std::cout, r->body["historyEvents"]);
    }
    return exit_for(r->body);
  }
  if (wait->parsed()) return wait_for(api, g, id, wait_seconds);
  if (raise->parsed()) {
    auto body = json_argument(input, "the event data");
    if (!body) return kUsage;
    auto r = api.call("POST", "/instances/" + url_encode(id) + "/raiseEvent/" + url_encode(event), *body);
    if (!r) return fail(kFailed, r.status().message());
    if (r->status != 202) return refused(*r);
    if (!g.json) std::cout << "raised " << event << " on " << id << '\n';
    return kOk;
  }
  for (const auto& [what, c] : controls) {
    if (!c->parsed()) continue;
    auto r = api.call("POST", "/instances/" + url_encode(id) + "/" + what +
                                  query({{"reason", reason}, {"recursive", recursive ? "true" : ""}}));
    if (!r) return fail(kFailed, r.status().message());
    if (r->status != 202) return refused(*r);
    if (!g.json) std::cout << what << " sent to " << id << (recursive ? " and its sub-orchestrations" : "") << '\n';
    return kOk;
  }
  if (restart->parsed()) {
    auto r = api.call("POST", "/instances/" + url_encode(id) + "/restart" +
                                  query({{"restartWithNewInstanceId", new_id ? "true" : ""}}));
    if (!r) return fail(kFailed, r.status().message());
    if (r->status != 202) return refused(*r);
    if (g.json) {
      std::cout << r->body.dump(2) << '\n';
    } else {
      std::cout << "restarted " << id << " as " << r->body.value("id", std::string()) << '\n';
    }
    return kOk;
  }
  if (purge->parsed()) {
    if (id.empty() && from.empty()) return fail(kUsage, "purge needs an ID, or --from (and optionally --to, --status)");
    const std::string path = id.empty()
                                 ? "/instances" + query({{"createdTimeFrom", from},
                                                         {"createdTimeTo", to},
                                                         {"runtimeStatus", status_filter},
                                                         {"recursive", recursive ? "true" : ""}})
                                 : "/instances/" + url_encode(id) + query({{"recursive", recursive ? "true" : ""}});
    auto r = api.call("DELETE", path);
    if (!r) return fail(kFailed, r.status().message());
    // A long purge goes on in the node: follow its progress to the end.
    while (r->status == 202 && r->body.is_object() && r->body.contains("id")) {
      if (!g.json) std::cerr << "purging: " << r->body.value("instancesDeleted", 0) << " so far\n";
      std::this_thread::sleep_for(std::chrono::seconds(2));
      r = api.call("GET", "/purges/" + url_encode(r->body["id"].get<std::string>()));
      if (!r) return fail(kFailed, r.status().message());
      if (r->status == 200 && r->body.value("runtimeStatus", std::string()) == "Failed") {
        return fail(kFailed, "the purge stopped after " + std::to_string(r->body.value("instancesDeleted", 0)) +
                                 " instance(s): " + r->body.value("error", std::string()));
      }
    }
    if (r->status != 200) return refused(*r);
    if (g.json) {
      std::cout << r->body.dump(2) << '\n';
    } else {
      std::cout << "purged " << r->body.value("instancesDeleted", 0) << " instance(s)\n";
    }
    return kOk;
  }
  if (signal->parsed()) return signal_entity(api, g, signal_args);
  if (dead->parsed()) return dead_letters(api, g, dead_action, dead_id, dead_top);
  if (entity_get->parsed()) return get_entity(api, entity_id);
  if (entity_list->parsed()) return list_entities(api, g, prefix, entity_top, with_empty);
  if (entity_delete->parsed()) return delete_entity(api, g, entity_id);
  if (entity_clean->parsed()) return clean_entities(api, g);
  if (cluster->parsed()) return show_cluster(api, g);
  if (list->parsed()) {
    json all = json::array();
    std::string token;
    do {
      const int want = top - static_cast<int>(all.size());
      auto r = api.call("GET",
                        "/instances" + query({{"runtimeStatus", status_filter},
                                              {"instanceIdPrefix", prefix},
                                              {"top", std::to_string(std::min(want, 1000))}}),
                        "", token);
      if (!r) return fail(kFailed, r.status().message());
      if (r->status != 200) return refused(*r);
      if (!r->body.is_array() || r->body.empty()) break;
      for (json& s : r->body) all.push_back(std::move(s));
      token = r->continuation;
    } while (!token.empty() && static_cast<int>(all.size()) < top);
    if (g.json) {
      std::cout << all.dump(2) << '\n';
    } else {
      print_instances(std::cout, all);
    }
    return kOk;
  }
  return kUsage;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const json::exception& e) {
    // A reply without the fields the API promises: not a durable node?
    return fail(kFailed, std::string("unexpected reply from the node: ") + e.what());
  }
}
