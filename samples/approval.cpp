// Approval (human interaction): wait for the "Approval" event or time out.
#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;

std::string request_approval(ActivityContext&, std::string proposal) {
  return "approval requested for \"" + proposal + "\"";
}

std::string escalate(ActivityContext&, std::string proposal) {
  return "\"" + proposal + "\" escalated to a manager";
}

Task<std::string> approval(OrchestrationContext& ctx, ApprovalRequest request) {
  co_await ctx.call_activity<std::string>("RequestApproval", request.proposal);
  auto deadline = ctx.create_timer(std::chrono::seconds(request.timeoutSeconds));
  auto decision = ctx.wait_for_external_event<bool>("Approval");
  const size_t winner = co_await when_any(decision, deadline);
  if (winner == 0) {
    deadline.cancel();
    const bool approved = co_await decision;
    co_return approved ? "approved" : "rejected";
  }
  co_await ctx.call_activity<std::string>("Escalate", request.proposal);
  co_return "escalated";
}
}  // namespace

void register_approval(Registry& registry) {
  registry.add_activity("RequestApproval", request_approval);
  registry.add_activity("Escalate", escalate);
  registry.add_orchestrator("Approval", approval);
}

}  // namespace durable::samples
