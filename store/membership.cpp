#include "store/membership.hpp"

#include <algorithm>
#include <cmath>

#include <msgpack.hpp>

#include "store/reply.hpp"
#include "store/store.hpp"

namespace durable::store {
namespace {

using namespace reply;

// An orchestrator as a heartbeat carries it.
struct PackedOrchestrator {
  std::string name;
  std::vector<std::string> versions;  // empty: every version
  MSGPACK_DEFINE_MAP(name, versions)
};

// A map, so that a field a node of an older build leaves out keeps its
// default (and one a newer build adds is skipped).
struct PackedNode {
  std::string cluster_address;
  std::string http_address;
  int64_t started_ms = 0;
  uint64_t load = 0;
  uint64_t workers = 0;
  std::string incarnation;
  std::string grpc_address;  // absent in heartbeats of nodes from before it
  uint64_t protocol_workers = 0;  // likewise
  // What it runs (NodeCode); absent in heartbeats of nodes from before
  // versioning: no version (runs every instance), nothing registered.
  std::string version;
  std::string version_match;    // to_string(VersionMatch); empty: the default
  std::string version_failure;  // to_string(VersionFailure); likewise
  std::vector<PackedOrchestrator> orchestrators;
  std::vector<std::string> activities;
  std::vector<std::string> entities;
  // Its recent rates (NodeRates); absent in heartbeats of nodes from before
  // them: interval 0, no rates. Rates travel as thousandths per second and
  // latencies as whole microseconds (-1: no commit), integers that msgpack
  // packs in 1 to 5 bytes each, so 60 intervals stay near 1 KB.
  int64_t rate_interval_ms = 0;
  int64_t rates_until_ms = 0;
  std::vector<uint64_t> episode_rates;
  std::vector<uint64_t> activity_rates;
  std::vector<uint64_t> entity_operation_rates;
  std::vector<int64_t> commit_latency_us;
  MSGPACK_DEFINE_MAP(cluster_address, http_address, started_ms, load, workers, incarnation, grpc_address,
                     protocol_workers, version, version_match, version_failure, orchestrators, activities, entities,
                     rate_interval_ms, rates_until_ms, episode_rates, activity_rates, entity_operation_rates,
                     commit_latency_us)
};

// A rate as it travels: thousandths per second, rounded (negative: 0).
uint64_t to_milli(double rate) {
  constexpr double kMax = 1e15;  // far past any rate; keeps llround defined
  return static_cast<uint64_t>(std::llround(std::clamp(rate * 1000.0, 0.0, kMax)));
}

std::vector<uint64_t> to_milli(const std::vector<double>& rates) {
  std::vector<uint64_t> out;
  out.reserve(rates.size());
  for (double r : rates) out.push_back(to_milli(r));
  return out;
}

std::vector<double> from_milli(const std::vector<uint64_t>& packed) {
  std::vector<double> out;
  out.reserve(packed.size());
  for (uint64_t m : packed) out.push_back(static_cast<double>(m) / 1000.0);
  return out;
}

void pack_rates(const NodeRates& r, PackedNode& p) {
  p.rate_interval_ms = r.interval.count();
  p.rates_until_ms = reply::to_ms(r.until);
  p.episode_rates = to_milli(r.episodes);
  p.activity_rates = to_milli(r.activities);
  p.entity_operation_rates = to_milli(r.entity_operations);
  for (const auto& ms : r.commit_latency_ms) {
    p.commit_latency_us.push_back(ms ? static_cast<int64_t>(to_milli(*ms)) : -1);  // ms to us
  }
}

// Series of unequal lengths (a record no build of ours writes) are cut to
// the shortest, so every interval has all four values.
void unpack_rates(const PackedNode& p, NodeRates& r) {
  r.interval = std::chrono::milliseconds(std::max<int64_t>(0, p.rate_interval_ms));
  r.until = TimePoint(std::chrono::milliseconds(p.rates_until_ms));
  r.episodes = from_milli(p.episode_rates);
  r.activities = from_milli(p.activity_rates);
  r.entity_operations = from_milli(p.entity_operation_rates);
  r.commit_latency_ms.clear();
  for (int64_t us : p.commit_latency_us) {
    r.commit_latency_ms.push_back(us < 0 ? std::nullopt : std::optional<double>(static_cast<double>(us) / 1000.0));
  }
  const size_t n = std::min({r.episodes.size(), r.activities.size(), r.entity_operations.size(),
                             r.commit_latency_ms.size()});
  r.episodes.resize(n);
  r.activities.resize(n);
  r.entity_operations.resize(n);
  r.commit_latency_ms.resize(n);
}

std::string pack(const NodeInfo& n) {
  PackedNode p;
  p.cluster_address = n.cluster_address;
  p.http_address = n.http_address;
  p.started_ms = reply::to_ms(n.started);
  p.load = n.load;
  p.workers = n.workers;
  p.incarnation = n.incarnation;
  p.grpc_address = n.grpc_address;
  p.protocol_workers = n.protocol_workers;
  const orchestration::NodeCode& code = n.code;
  p.version = code.policy.version;
  p.version_match = orchestration::to_string(code.policy.match);
  p.version_failure = orchestration::to_string(code.policy.failure);
  for (const auto& o : code.orchestrators) p.orchestrators.push_back({o.name, o.versions});
  p.activities = code.activities;
  p.entities = code.entities;
  pack_rates(n.rates, p);
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, p);
  return {buffer.data(), buffer.size()};
}

// A strategy this build does not know (a newer node's) reads as the
// default rather than making the whole member list unreadable.
void unpack_code(PackedNode& p, orchestration::NodeCode& code) {
  code.policy.version = std::move(p.version);
  if (auto match = orchestration::parse_version_match(p.version_match)) code.policy.match = *match;
  if (auto failure = orchestration::parse_version_failure(p.version_failure)) code.policy.failure = *failure;
  code.orchestrators.clear();
  for (auto& o : p.orchestrators) code.orchestrators.push_back({std::move(o.name), std::move(o.versions)});
  code.activities = std::move(p.activities);
  code.entities = std::move(p.entities);
}

Status unpack(std::string_view bytes, NodeInfo& n) {
  try {
    PackedNode p;
    msgpack::unpack(bytes.data(), bytes.size()).get().convert(p);
    n.cluster_address = std::move(p.cluster_address);
    n.http_address = std::move(p.http_address);
    n.started = TimePoint(std::chrono::milliseconds(p.started_ms));
    n.load = p.load;
    n.workers = p.workers;
    n.incarnation = std::move(p.incarnation);
    n.grpc_address = std::move(p.grpc_address);
    n.protocol_workers = p.protocol_workers;
    unpack_code(p, n.code);
    unpack_rates(p, n.rates);
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::corruption("node " + n.id + ": " + e.what());
  }
}

}  // namespace

Result<LeaseGrant> Membership::acquire_lease(uint32_t partition, std::string_view node,
                                             std::chrono::milliseconds ttl) {
  auto reply = store_.connection().command("FCALL", "durable_lease_acquire", "1", store_.keys().lease(partition),
                                           node, std::to_string(ttl.count()));
  if (!reply) return reply.status();
  auto parts = as_array(**reply, 3);
  if (!parts) return parts.status();
  auto epoch = as_integer(*(*parts)[0]);
  auto owner = as_string(*(*parts)[1]);
  auto left = as_integer(*(*parts)[2]);
  if (!epoch || !owner || !left) return Status::internal("malformed durable_lease_acquire reply");
  return LeaseGrant{static_cast<uint64_t>(*epoch), *owner, std::chrono::milliseconds(*left)};
}

Status Membership::renew_lease(uint32_t partition, std::string_view node, uint64_t epoch,
                               std::chrono::milliseconds ttl) {
  auto reply = store_.connection().command("FCALL", "durable_lease_renew", "1", store_.keys().lease(partition), node,
                                           std::to_string(epoch), std::to_string(ttl.count()));
  return reply ? Status::ok() : reply.status();
}

Status Membership::release_lease(uint32_t partition, std::string_view node, uint64_t epoch) {
  auto reply = store_.connection().command("FCALL", "durable_lease_release", "1", store_.keys().lease(partition),
                                           node, std::to_string(epoch));
  return reply ? Status::ok() : reply.status();
}

Result<std::vector<std::string>> Membership::heartbeat(const NodeInfo& node, std::chrono::milliseconds timeout,
                                                       bool take) {
  auto reply = store_.connection().command("FCALL", "durable_heartbeat", "2", store_.keys().members(),
                                           store_.keys().nodes(), node.id, pack(node), std::to_string(timeout.count()),
                                           node.incarnation, take ? "1" : "0");
  if (!reply && reply.status().code() == Errc::already_exists) {
    std::string other = reply.status().message();
    other.erase(0, other.find(' ') + 1);
    return Status(Errc::already_exists,
                  "another process runs as node '" + node.id + "' (incarnation " + other + ")");
  }
  if (!reply) return reply.status();
  auto list = as_array(**reply);
  if (!list) return list.status();
  std::vector<std::string> live;
  for (redisReply* r : *list) live.emplace_back(str(r));
  return live;
}

Status Membership::leave(std::string_view node) {
  auto reply = store_.connection().command("FCALL", "durable_heartbeat", "2", store_.keys().members(), store_.keys().nodes(), node, "", "0");
  return reply ? Status::ok() : reply.status();
}

Result<std::vector<NodeInfo>> Membership::nodes(std::chrono::milliseconds timeout) {
  Pipeline pipe(store_.connection());
  pipe.add("TIME");
  pipe.add("ZRANGE", store_.keys().members(), "0", "-1", "WITHSCORES");
  pipe.add("HGETALL", store_.keys().nodes());
  auto replies = pipe.execute();
  for (auto& r : replies) {
    if (!r) return r.status();
  }
  auto time = as_array(*replies[0].value(), 2);
  if (!time) return time.status();
  auto seconds = parse_int("TIME", str((*time)[0]));
  auto micros = parse_int("TIME", str((*time)[1]));
  if (!seconds || !micros) return Status::internal("malformed TIME reply");
  const int64_t now = *seconds * 1000 + *micros / 1000;
  std::map<std::string, std::string> infos;
  auto fields = as_array(*replies[2].value());
  if (!fields) return fields.status();
  for (size_t i = 0; i + 1 < fields->size(); i += 2) infos[std::string(str((*fields)[i]))] = str((*fields)[i + 1]);
  auto members = as_array(*replies[1].value());
  if (!members) return members.status();
  std::vector<NodeInfo> out;
  for (size_t i = 0; i + 1 < members->size(); i += 2) {
    NodeInfo n;
    n.id = std::string(str((*members)[i]));
    auto beat = parse_int("heartbeat", str((*members)[i + 1]));
    if (!beat) return beat.status();
    n.since_heartbeat = std::chrono::milliseconds(now - *beat);
    n.live = n.since_heartbeat < timeout;
    if (auto it = infos.find(n.id); it != infos.end()) {
      if (Status s = unpack(it->second, n); !s) return s;
    }
    out.push_back(std::move(n));
  }
  // Who owns what, by the leases.
  Pipeline leases(store_.connection());
  for (uint32_t p = 0; p < store_.partitions(); ++p) leases.add("HMGET", store_.keys().lease(p), "owner", "expires");
  uint32_t p = 0;
  for (auto& r : leases.execute()) {
    if (!r) return r.status();
    auto pair = as_array(**r, 2);
    if (pair && (*pair)[0]->type == REDIS_REPLY_STRING) {
      const std::string owner(str((*pair)[0]));
      auto expires = (*pair)[1]->type == REDIS_REPLY_STRING ? parse_int("expires", str((*pair)[1])) : Result<int64_t>(0);
      for (NodeInfo& n : out) {
        if (n.id == owner && expires && *expires > now) n.partitions.push_back(p);
      }
    }
    ++p;
  }
  return out;
}

}  // namespace durable::store
