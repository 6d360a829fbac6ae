#include "orchestration/rewind.hpp"

#include <algorithm>

namespace durable::orchestration {
namespace {

bool is_failure(EventType type) {
  return type == EventType::task_failed || type == EventType::sub_orchestration_instance_failed;
}

// Marks in `voided` what the ExecutionRewound at `rewind` voids among the
// events before it (see the header).
void void_before(const std::vector<HistoryEvent>& log, size_t rewind, std::vector<bool>& voided) {
  size_t begin = 0;
  while (begin < rewind) {
    // One episode: from an OrchestratorStarted to the next one.
    size_t end = begin + 1;
    while (end < rewind && log[end].type != EventType::orchestrator_started) ++end;
    bool answered = false, ended = false;
    for (size_t i = begin; i < end; ++i) {
      if (voided[i]) continue;
      answered = answered || is_action(log[i].type);
      ended = ended || log[i].type == EventType::execution_completed;
    }
    for (size_t i = begin; i < end; ++i) {
      const EventType t = log[i].type;
      if (t == EventType::execution_completed || (is_failure(t) && (ended || !answered))) voided[i] = true;
    }
    begin = end;
  }
}

}  // namespace

std::vector<HistoryEvent> rewound_view(std::vector<HistoryEvent> log) {
  std::vector<bool> voided(log.size(), false);
  bool any = false;
  for (size_t i = 0; i < log.size(); ++i) {
    if (log[i].type != EventType::execution_rewound) continue;
    void_before(log, i, voided);
    any = true;
  }
  if (!any) return log;
  std::vector<HistoryEvent> view;
  view.reserve(log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    if (!voided[i]) view.push_back(std::move(log[i]));
  }
  return view;
}

bool is_rewind(std::span<const HistoryEvent> past, std::span<const HistoryEvent> new_events) {
  auto has = [](std::span<const HistoryEvent> events, EventType type) {
    return std::any_of(events.begin(), events.end(), [&](const HistoryEvent& e) { return e.type == type; });
  };
  return has(new_events, EventType::execution_rewound) && has(past, EventType::execution_completed);
}

bool rewound_last(std::span<const HistoryEvent> view) {
  for (auto e = view.rbegin(); e != view.rend(); ++e) {
    if (e->type == EventType::execution_rewound) return true;
    if (e->type == EventType::orchestrator_started) return false;
  }
  return false;
}

EpisodePlan plan_rewind(const InstanceState& state, TimePoint now, const HistoryEvent& rewound) {
  EpisodePlan plan;
  plan.new_history = {events::orchestrator_started(now), rewound, events::orchestrator_completed(now)};
  plan.new_history[1].timestamp = now;
  plan.status = OrchestrationStatus::running;
  plan.custom_status = std::string(state.custom_status);

  std::vector<HistoryEvent> log(state.history.begin(), state.history.end());
  log.insert(log.end(), plan.new_history.begin(), plan.new_history.end());
  OpenWork open = open_work(rewound_view(std::move(log)));
  plan.activities = std::move(open.activities);
  for (const auto& [timer, at] : open.timers) plan.timers_created.push_back({timer, at, std::string(state.execution_id)});
  for (std::string& child : open.children) {
    plan.messages.push_back({std::move(child),
                             events::execution_rewound(now, rewound.input, std::string(state.id),
                                                       std::string(state.execution_id)),
                             {}});
  }
  return plan;
}

bool asked_by_parent(const HistoryEvent& rewound, const HistoryEvent* started) {
  if (rewound.instance_id.empty() || !started || !started->parent) return false;
  return started->parent->instance_id == rewound.instance_id &&
         started->parent->execution_id == rewound.execution_id;
}

}  // namespace durable::orchestration
