// ApprovalBoard: N Approval sub-orchestrations in parallel, their answers counted.
#include <stdexcept>

#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;

Task<ApprovalTally> approval_board(OrchestrationContext& ctx, ApprovalBoardInput input) {
  if (input.approvals < 1 || input.approvals > kMaxApprovals) {
    throw std::invalid_argument("approvals must be between 1 and " + std::to_string(kMaxApprovals) + ", got " +
                                std::to_string(input.approvals));
  }
  std::vector<DurableTask<std::string>> answers;
  answers.reserve(static_cast<size_t>(input.approvals));
  for (int64_t k = 1; k <= input.approvals; ++k) {
    answers.push_back(ctx.call_sub_orchestrator<std::string>(
        "Approval", ApprovalRequest{"item " + std::to_string(k), input.timeoutSeconds},
        approval_child_id(ctx.instance_id(), k)));
  }
  ApprovalTally tally;
  for (const std::string& answer : co_await when_all(answers)) {
    if (answer == "approved") ++tally.approved;
    else if (answer == "escalated") ++tally.escalated;
  }
  co_return tally;
}
}  // namespace

std::string approval_child_id(const std::string& board_id, int64_t k) {
  return board_id + ":approval-" + std::to_string(k);
}

void register_approval_board(Registry& registry) { registry.add_orchestrator("ApprovalBoard", approval_board); }

}  // namespace durable::samples
