#pragma once
// The instance row as a Redis hash: its fields (docs/format.md, "Instance
// row"), written whole when an execution begins and in part as it runs.
// No hiredis here: a reply to parse is only declared.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/types.hpp"

struct redisReply;

namespace durable::store {

/// The row's hash fields as HSET arguments (field, value, ...), without "v"
/// (the version is the commit's to write).
std::vector<std::string> row_fields(const InstanceRow& row);
/// The fields an episode within one execution changes: the update time,
/// those of status, custom status and inbox position that `changed` names,
/// and the output and failure once the row is final.
std::vector<std::string> row_progress_fields(const InstanceRow& row, EpisodeWrite::Changed changed);
/// Reads HGETALL output (a non-empty field list). Errors: corruption naming
/// the instance and the field.
Result<InstanceRow> parse_row(std::string_view id, const redisReply& hgetall);
/// The ExecutionStarted that a client's start leaves in the row it writes.
HistoryEvent start_event(const InstanceRow& row);
/// Stream ids ("1700000000000-3") in stream order; malformed ones sort as 0-0.
bool stream_id_less(std::string_view a, std::string_view b);

}  // namespace durable::store
