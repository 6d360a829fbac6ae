// FlakyOnce: an activity that fails until a time its orchestration chose, so
// the instance fails at once and a rewind after that time completes it.
#include <chrono>
#include <stdexcept>

#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;

// Reads the wall clock: an activity may, an orchestrator may not.
std::string flaky_step(ActivityContext&, FlakyStepInput input) {
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  if (now.time_since_epoch().count() < input.succeedAfterMs) throw std::runtime_error("FlakyStep: too early");
  return "recovered";
}

// The start time is the orchestration's deterministic clock, the same on
// every replay and after a rewind, so the step's deadline never moves.
Task<std::string> flaky_once(OrchestrationContext& ctx, FlakyOnceInput input) {
  if (input.failForSeconds < 0 || input.failForSeconds > kMaxFlakySeconds) {
    throw std::invalid_argument("failForSeconds must be between 0 and " + std::to_string(kMaxFlakySeconds) +
                                ", got " + std::to_string(input.failForSeconds));
  }
  const TimePoint until = ctx.current_utc_datetime() + std::chrono::seconds(input.failForSeconds);
  co_return co_await ctx.call_activity<std::string>("FlakyStep",
                                                    FlakyStepInput{until.time_since_epoch().count()});
}
}  // namespace

void register_flaky_once(Registry& registry) {
  registry.add_activity("FlakyStep", flaky_step);
  registry.add_orchestrator("FlakyOnce", flaky_once);
}

}  // namespace durable::samples
