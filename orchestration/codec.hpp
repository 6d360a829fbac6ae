#pragma once
// The msgpack encoding of history events: one batch (an episode) is the unit
// stored as one Redis stream entry. The layout, the event-type table, the
// invariants and the rules for growth are in docs/format.md; this header and
// that document describe the same bytes and must be changed together.
//
// Why hand-written packing instead of MSGPACK_DEFINE: the layout is the
// contract. Writing each field with the packer keeps its position visible
// here and in codec.cpp, lets each event type carry only the fields it uses,
// and lets the decoder report exactly which field of which event is wrong
// instead of msgpack's "std::bad_cast".
//
// All functions are pure and thread-safe: they touch no shared state and may
// be called from any thread or actor.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "orchestration/history.hpp"

namespace durable::orchestration {

/// The format version written as the first element of every batch. Bumped
/// only for a change old readers cannot survive by ignoring trailing fields
/// (docs/format.md, "Rules for growth"). A reader rejects a newer version.
inline constexpr uint8_t kFormatVersion = 1;

/// Positions in a batch array: [format_version, [event, ...]].
inline constexpr std::size_t kBatchVersionPos = 0;
inline constexpr std::size_t kBatchEventsPos = 1;
inline constexpr std::size_t kBatchFields = 2;

/// Positions common to every event array:
/// [type, event_id, timestamp_ms, <fields of that type, in the order of
/// docs/format.md>].
inline constexpr std::size_t kEventTypePos = 0;
inline constexpr std::size_t kEventIdPos = 1;
inline constexpr std::size_t kEventTimestampPos = 2;
inline constexpr std::size_t kEventCommonFields = 3;

/// Encodes one event as a bare event array (no format version).
///
/// Only the fields `event.type` uses are written; the others are dropped, so
/// they decode as their defaults. Payloads are written as msgpack bin (nil
/// when empty) and never inspected.
///
/// A bare event carries no version: whoever stores one on its own must record
/// kFormatVersion beside it, or store a batch of one (encode_events).
///
/// REQUIRES: `event.type` is an EventType enumerator; every string, payload
/// and lock_set is shorter than 2^32 (msgpack's limit; the HTTP layer caps
/// payloads far below that).
std::string encode_event(const HistoryEvent& event);

/// Decodes the output of encode_event.
///
/// On success returns the event. Returns Errc::corruption when `bytes` is
/// empty, truncated, not msgpack, followed by trailing bytes, or does not
/// match the layout (unknown event type, too few fields, a field of the wrong
/// msgpack type or out of range); the message names the event type and the
/// field, e.g. "event (TaskScheduled): expected str for name, got int".
/// Extra trailing fields (from a newer writer) are ignored.
///
/// `bytes` is only read during the call; the result owns copies.
Result<HistoryEvent> decode_event(std::string_view bytes);

/// Encodes `events` as one batch: [kFormatVersion, [event, ...]]. An empty
/// span gives a valid batch of no events.
///
/// REQUIRES: as encode_event, for each event; fewer than 2^32 events.
std::string encode_events(std::span<const HistoryEvent> events);

/// Decodes the output of encode_events, in order.
///
/// Returns Errc::corruption as decode_event does, plus for a batch that is
/// not an array of at least kBatchFields elements, a format version of 0 or
/// newer than kFormatVersion, or events that is not an array. Messages name
/// the event by its index in the batch: "event 3 (TaskFailed): expected str
/// for failure.message, got nil". Nothing is returned from a corrupt batch
/// (no partial result). Extra trailing elements of the batch array are
/// ignored.
///
/// `bytes` is only read during the call; the result owns copies. Cost:
/// one msgpack parse that references `bytes` (no copy of strings into the
/// msgpack zone) plus one copy of each string into the events.
Result<std::vector<HistoryEvent>> decode_events(std::string_view bytes);

}  // namespace durable::orchestration
