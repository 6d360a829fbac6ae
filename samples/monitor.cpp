// Monitor: poll a job on a timer until it is done or the expiry passes;
// continue-as-new every round keeps the history to one round.
#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;

// A simulated external job: it reports done on its doneAfter-th check.
bool check_job_status(ActivityContext&, JobCheck check) {
  return check.doneAfter > 0 && check.check >= check.doneAfter;
}

Task<std::string> monitor(OrchestrationContext& ctx, MonitorInput in) {
  const TimePoint now = ctx.current_utc_datetime();
  if (in.expiresAtMs == 0) {
    in.expiresAtMs = (now + std::chrono::seconds(in.expirySeconds)).time_since_epoch().count();
  }
  const TimePoint expires_at{std::chrono::milliseconds(in.expiresAtMs)};
  if (now >= expires_at) co_return "expired";

  ++in.checks;
  const JobCheck check{in.jobId, in.checks, in.doneAfter};
  const bool done = co_await ctx.call_activity<bool>("CheckJobStatus", check);
  if (done) co_return "done";
  const TimePoint next = ctx.current_utc_datetime() + std::chrono::seconds(in.pollSeconds);
  co_await ctx.create_timer(next < expires_at ? next : expires_at);
  ctx.continue_as_new(in);
  co_return "";
}
}  // namespace

void register_monitor(Registry& registry) {
  registry.add_activity("CheckJobStatus", check_job_status);
  registry.add_orchestrator("Monitor", monitor);
}

}  // namespace durable::samples
