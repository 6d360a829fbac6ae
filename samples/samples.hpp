#pragma once
// The sample orchestrators and activities, registered under fixed names that
// the tests, the demo, the HTTP API and the benchmarks use:
//
//   HelloSequence   calls SayHello for each city in turn
//   HelloParent     calls HelloSequence as a sub-orchestration
//   OrderProcessing ValidateOrder -> ChargeCustomer (retried) -> SendConfirmation
//   FanOutFanIn     Double(i) for i in 0..N-1 in parallel, sums the results
//   Approval        RequestApproval, then the "Approval" event or a timeout
//   Monitor         polls CheckJobStatus on a timer, continue-as-new per round
//   FlakyOnce       FlakyStep fails until its start time + failForSeconds
//                   ("FlakyStep: too early"); a rewind after that completes
//                   it with "recovered"
//   ApprovalBoard   N Approval sub-orchestrations "<id>:approval-<k>" at
//                   once; outputs {"approved": A, "escalated": E}
//   VersionedGreeting  waits for the "Go" event, then outputs "v1: hello NAME"
//                   for an instance of a version below 2.0 (none included),
//                   "v2: hello NAME" otherwise (README, "Versions")
//   Checkout, Transfer  critical sections over entities (samples/entities.hpp)
//
// Inputs and outputs are JSON-compatible msgpack (maps with string keys).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "orchestration/registry.hpp"

namespace durable::samples {

/// Registers every sample orchestrator and activity.
void register_samples(orchestration::Registry& registry);

// --- OrderProcessing ---------------------------------------------------------
struct Order {
  std::string orderId;
  double amount = 0;
  std::string email;
  MSGPACK_DEFINE_MAP(orderId, amount, email)
};

struct Validation {
  bool valid = false;
  std::string reason;
  MSGPACK_DEFINE_MAP(valid, reason)
};

/// {"orderId", "status": "confirmed", "charged"} or {"orderId", "status":
/// "rejected", "reason"}: only the fields of the outcome are written.
struct OrderResult {
  std::string orderId;
  std::string status;
  std::optional<double> charged;
  std::optional<std::string> reason;
};

/// ChargeCustomer declines amounts above this (a simulated card limit).
inline constexpr double kCardLimit = 10000;

// --- Approval ----------------------------------------------------------------
struct ApprovalRequest {
  std::string proposal;
  int64_t timeoutSeconds = 72 * 3600;
  MSGPACK_DEFINE_MAP(proposal, timeoutSeconds)
};

// --- ApprovalBoard -----------------------------------------------------------
struct ApprovalBoardInput {
  int64_t approvals = 1;  // 1..kMaxApprovals
  int64_t timeoutSeconds = 72 * 3600;
  MSGPACK_DEFINE_MAP(approvals, timeoutSeconds)
};

/// Children answering "rejected" count in neither.
struct ApprovalTally {
  int64_t approved = 0;
  int64_t escalated = 0;
  MSGPACK_DEFINE_MAP(approved, escalated)
};

inline constexpr int64_t kMaxApprovals = 100;

/// The id of a board's k-th Approval child (k from 1): "<board id>:approval-<k>".
std::string approval_child_id(const std::string& board_id, int64_t k);

// --- FlakyOnce ---------------------------------------------------------------
struct FlakyOnceInput {
  int64_t failForSeconds = 0;  // 0..kMaxFlakySeconds
  MSGPACK_DEFINE_MAP(failForSeconds)
};

/// FlakyStep's input: it fails while the wall clock is before this (ms since 1970).
struct FlakyStepInput {
  int64_t succeedAfterMs = 0;
  MSGPACK_DEFINE_MAP(succeedAfterMs)
};

inline constexpr int64_t kMaxFlakySeconds = 365LL * 24 * 3600;

// --- Monitor -----------------------------------------------------------------
struct MonitorInput {
  std::string jobId;
  int64_t pollSeconds = 60;
  int64_t expirySeconds = 3600;
  /// The simulated job reports done on this check (0: never).
  int64_t doneAfter = 3;
  /// Carried between rounds by continue-as-new.
  int64_t checks = 0;
  int64_t expiresAtMs = 0;  // 0 until the first round sets it
  MSGPACK_DEFINE_MAP(jobId, pollSeconds, expirySeconds, doneAfter, checks, expiresAtMs)
};

struct JobCheck {
  std::string jobId;
  int64_t check = 0;
  int64_t doneAfter = 0;
  MSGPACK_DEFINE_MAP(jobId, check, doneAfter)
};

}  // namespace durable::samples

// OrderResult writes only the fields of its outcome, so it needs its own
// msgpack adaptor (MSGPACK_DEFINE_MAP would write nulls).
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <>
  struct pack<durable::samples::OrderResult> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& o, const durable::samples::OrderResult& r) const {
      o.pack_map(2 + (r.charged ? 1 : 0) + (r.reason ? 1 : 0));
      o.pack("orderId");
      o.pack(r.orderId);
      o.pack("status");
      o.pack(r.status);
      if (r.charged) {
        o.pack("charged");
        o.pack(*r.charged);
      }
      if (r.reason) {
        o.pack("reason");
        o.pack(*r.reason);
      }
      return o;
    }
  };
  template <>
  struct convert<durable::samples::OrderResult> {
    const msgpack::object& operator()(const msgpack::object& o, durable::samples::OrderResult& r) const {
      if (o.type != msgpack::type::MAP) throw msgpack::type_error();
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        const auto key = kv.key.as<std::string>();
        if (key == "orderId") r.orderId = kv.val.as<std::string>();
        else if (key == "status") r.status = kv.val.as<std::string>();
        else if (key == "charged") r.charged = kv.val.as<double>();
        else if (key == "reason") r.reason = kv.val.as<std::string>();
      }
      return o;
    }
  };
  }  // namespace adaptor
}
}  // namespace msgpack
