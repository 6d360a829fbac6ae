#include "http/metrics.hpp"

#include <fmt/core.h>

namespace durable::http {

std::string prometheus_text(const Metrics& m) {
  std::string out;
  const auto counter = [&](const char* name, const char* help, uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
  };
  const auto gauge = [&](const char* name, const char* help, uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
  };
  counter("durable_episodes_total", "Orchestration episodes handed to an executor (replays on load not counted).",
          m.episodes);
  counter("durable_episodes_overdue_total",
          "Episodes an executor did not answer within the executor timeout (handed out again).", m.episodes_overdue);
  counter("durable_entity_batches_overdue_total",
          "Entity batches an executor did not answer within the executor timeout (run again after a reload).",
          m.batches_overdue);
  counter("durable_commits_total", "Episode commits acknowledged by Redis.", m.commits);
  counter("durable_commits_merged_total", "Commits (episodes and entity batches) sent several to one function call.",
          m.commits_merged);
  counter("durable_activities_total", "Activities scheduled by this node's orchestrations.", m.activities);
  counter("durable_activities_sent_total", "Of those, sent to other nodes to run.", m.activities_sent);
  counter("durable_activities_for_peers_total", "Activities run here for other nodes.", m.activities_for_peers);
  counter("durable_activities_rerun_total", "Activities run again here because the node running them went down.",
          m.activities_rerun);
  counter("durable_instance_loads_total", "Instances loaded from Redis (history replayed).", m.loads);
  counter("durable_starts_handed_off_total",
          "Instances begun from a start written in this process, without a load.", m.starts_handed_off);
  gauge("durable_live_instances", "Instance actors in this node's memory.", m.live_instances);
  counter("durable_entity_batches_total", "Entity batches committed.", m.entity_batches);
  counter("durable_entity_operations_total", "Entity operations run (signals and calls).", m.entity_operations);
  counter("durable_entity_operations_failed_total", "Entity operations that threw.", m.entity_operations_failed);
  gauge("durable_live_entities", "Entity actors in this node's memory.", m.live_entities);
  gauge("durable_peers", "Other nodes this node is connected to.", m.peers);
  gauge("durable_peers_with_sdk_workers", "Of those, nodes with Durable Task SDK workers connected.", m.protocol_peers);
  counter("durable_episodes_for_peers_total", "Orchestration episodes run here (on SDK workers or in C++) for other nodes.",
          m.episodes_for_peers);
  counter("durable_entity_batches_for_peers_total", "Entity batches run here on SDK workers for other nodes.",
          m.entity_batches_for_peers);
  counter("durable_retention_purged_total", "Finished instances this node purged by retention (--retain-*).", m.retention_purged);
  gauge("durable_version_waiting",
        "Instances owned here whose episode waits for a live node that runs their orchestration version.",
        m.version_waiting);
  gauge("durable_activities_waiting", "Activities waiting here for a live node that registered their name.",
        m.activities_waiting);
  counter("durable_peer_wakes_total", "Wake-ups other nodes sent over CAF for instances and entities owned here.",
          m.peer_wakes);
  out += "# HELP durable_instances The hub's instances with unfinished work, by status.\n";
  out += "# TYPE durable_instances gauge\n";
  for (auto s : {orchestration::OrchestrationStatus::pending, orchestration::OrchestrationStatus::running,
                 orchestration::OrchestrationStatus::suspended}) {
    out += fmt::format("durable_instances{{status=\"{}\"}} {}\n", orchestration::status_name(s),
                       m.unfinished[static_cast<size_t>(s)]);
  }

  out += "# HELP durable_commit_seconds Episode and entity batch commit round trips, actor to Redis and back.\n";
  out += "# TYPE durable_commit_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < m.commit_counts.size(); ++i) {
    cumulative += m.commit_counts[i];
    const std::string le =
        i < m.commit_bounds_us.size() ? fmt::format("{}", static_cast<double>(m.commit_bounds_us[i]) / 1e6) : "+Inf";
    out += fmt::format("durable_commit_seconds_bucket{{le=\"{}\"}} {}\n", le, cumulative);
  }
  out += fmt::format("durable_commit_seconds_sum {}\n", static_cast<double>(m.commit_sum_us) / 1e6);
  out += fmt::format("durable_commit_seconds_count {}\n", cumulative);

  out += "# HELP durable_instances_finished_total Executions this node finished, by final status.\n";
  out += "# TYPE durable_instances_finished_total counter\n";
  for (auto s : {orchestration::OrchestrationStatus::completed, orchestration::OrchestrationStatus::failed,
                 orchestration::OrchestrationStatus::terminated}) {
    out += fmt::format("durable_instances_finished_total{{status=\"{}\"}} {}\n", orchestration::status_name(s),
                       m.finished[static_cast<size_t>(s)]);
  }
  return out;
}

}  // namespace durable::http
