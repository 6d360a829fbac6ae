#pragma once
// Rewinding a Failed instance (Durable Functions' RewindAsync): its failed
// tasks run again, every other task keeps its recorded result, and the
// instance is Running again.
//
// The history stays append-only. A rewind appends ExecutionRewound, and
// replay reads the history through rewound_view(), in which each
// ExecutionRewound voids the failures before it that ended the execution:
//   - the ExecutionCompleted;
//   - each TaskFailed and SubOrchestrationInstanceFailed delivered in an
//     episode that ended the execution, or in one the code answered with no
//     action (it was still waiting, as in a fan-in).
// A failure the code answered (a retry policy's timer, a catch that called
// something else) stays, so replay takes the same path again and a retried
// call runs only its last attempt again.
// A voided task is open again: its TaskScheduled (or
// SubOrchestrationInstanceCreated) stays, so replay finds every action where
// the code makes it, and the runtime runs the activity again and asks the
// child to rewind in turn (plan_rewind).
//
// Pure: no clock, no I/O.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "orchestration/episode_plan.hpp"
#include "orchestration/history.hpp"

namespace durable::orchestration {

/// `log` as replay must see it: the events each ExecutionRewound voids
/// removed (the ExecutionRewound events themselves stay).
std::vector<HistoryEvent> rewound_view(std::vector<HistoryEvent> log);

/// Whether an episode over `past` with the messages `new_events` is a
/// rewind: the execution has ended (`past` holds its ExecutionCompleted) and
/// a message is ExecutionRewound.
bool is_rewind(std::span<const HistoryEvent> past, std::span<const HistoryEvent> new_events);

/// Whether the last episode of `view` is a rewind: the instance has yet to
/// run its code again (a crash came between the rewind and that episode).
bool rewound_last(std::span<const HistoryEvent> view);

/// The plan of rewinding the Failed instance `state` (whose history is
/// `state.history`) at `now` on the message `rewound`: its history gains
/// OrchestratorStarted, `rewound`, OrchestratorCompleted; it is Running with
/// no output or failure (the custom status kept); the open activities of its
/// view after the rewind are dispatched again and its open timers set again;
/// and each open child gets an ExecutionRewound naming this instance and
/// execution (a Failed child rewinds; a finished one repeats its notice).
/// The caller then replays the view and runs an episode with no messages,
/// so code that failed without a failed task runs again too.
EpisodePlan plan_rewind(const InstanceState& state, TimePoint now, const HistoryEvent& rewound);

/// Whether `rewound` comes from the parent recorded in `started` (this
/// execution's ExecutionStarted): a parent's request names its instance and
/// execution.
bool asked_by_parent(const HistoryEvent& rewound, const HistoryEvent* started);

}  // namespace durable::orchestration
