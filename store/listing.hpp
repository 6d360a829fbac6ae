#pragma once
// The listing index (docs/format.md "Listing index"): the ranges its
// readers ask for, and its one-time backfill: a hub written before the
// index existed has rows that no commit has put in it yet.
// Store::check_hub runs backfill_listing, so every node and client that
// opens the hub makes sure it is complete before listing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "orchestration/history.hpp"

namespace durable::store {

class Store;

/// The ZRANGEBYLEX bounds of the listing members created within
/// [from, to] (both inclusive, either absent): min "[<from ms>" or "-",
/// max "(<to ms + 1>" (every member of that millisecond is below) or "+".
struct CreatedRange {
  std::string min;
  std::string max;
};
CreatedRange created_range(std::optional<orchestration::TimePoint> from, std::optional<orchestration::TimePoint> to);

/// The status numbers of `statuses`, sorted, each once; every status when
/// it is empty (no filter).
std::vector<int> status_numbers(const std::vector<orchestration::OrchestrationStatus>& statuses);

/// Adds every instance of `partition` (its created-time index, read with
/// ZSCAN in chunks of about `chunk`) to the listing set of its status and
/// to the ids set, each chunk in one atomic script that reads the rows as
/// they are then. Idempotent. Returns how many listing entries were new.
/// Errors: as Store::run's.
Result<size_t> backfill_listing_partition(Store& store, uint32_t partition, size_t chunk = 500);

/// backfill_listing_partition of every partition, once per hub: the hub's
/// meta records ("listing") that it was done, and later calls return 0 at
/// the cost of one HGET. Safe to run from several processes at once (each
/// step is idempotent, and commits keep the index meanwhile).
Result<size_t> backfill_listing(Store& store, size_t chunk = 500);

}  // namespace durable::store
