#include "orchestration/codec.hpp"

#include <msgpack.hpp>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <limits>
#include <utility>

namespace durable::orchestration {
namespace {

// ---- the layout --------------------------------------------------------------

/// The type-specific fields an event may carry. Each event type lists the ones
/// it uses in a fixed order (fields_of); the encoder and the decoder both walk
/// that list, so they cannot disagree about positions.
enum class Field : uint8_t {
  name,
  instance_id,
  execution_id,
  input,
  result,
  task_scheduled_id,
  fire_at,
  failure,
  parent,
  status,
  request_id,
  lock_set,
  version,
  recursive,
};

const char* field_name(Field f) {
  switch (f) {
    case Field::name: return "name";
    case Field::instance_id: return "instance_id";
    case Field::execution_id: return "execution_id";
    case Field::input: return "input";
    case Field::result: return "result";
    case Field::task_scheduled_id: return "task_scheduled_id";
    case Field::fire_at: return "fire_at";
    case Field::failure: return "failure";
    case Field::parent: return "parent";
    case Field::status: return "status";
    case Field::request_id: return "request_id";
    case Field::lock_set: return "lock_set";
    case Field::version: return "version";
    case Field::recursive: return "recursive";
  }
  return "?";
}

/// The fields of each type after [type, event_id, timestamp_ms], in order.
/// This is the table "Event types" of docs/format.md: change both together,
/// and only by appending (a field's position is part of the format).
std::span<const Field> fields_of(EventType type) {
  using enum Field;
  static constexpr Field kExecutionStarted[] = {name, instance_id, execution_id, input, parent, fire_at, version};
  static constexpr Field kExecutionCompleted[] = {status, result, failure};
  static constexpr Field kReason[] = {input};
  static constexpr Field kTerminated[] = {input, recursive};
  static constexpr Field kRewound[] = {input, instance_id, execution_id};
  static constexpr Field kNameInput[] = {name, input};
  static constexpr Field kCompleted[] = {task_scheduled_id, result};
  static constexpr Field kFailed[] = {task_scheduled_id, failure};
  static constexpr Field kTimerCreated[] = {fire_at};
  static constexpr Field kTimerFired[] = {task_scheduled_id, fire_at};
  static constexpr Field kEventSent[] = {instance_id, name, input};
  static constexpr Field kSubCreated[] = {name, instance_id, input, version};
  static constexpr Field kContinueAsNew[] = {result};
  // In an entity's inbox, instance_id is the sender and execution_id the
  // sender's execution (where the reply goes).
  static constexpr Field kOpCalled[] = {instance_id, name, input, request_id, execution_id};
  static constexpr Field kOpSignaled[] = {instance_id, name, input, request_id, fire_at, execution_id};
  static constexpr Field kOpCompleted[] = {request_id, result};
  static constexpr Field kOpFailed[] = {request_id, failure};
  static constexpr Field kLockRequested[] = {request_id, lock_set, instance_id, execution_id};
  static constexpr Field kLockGranted[] = {request_id};
  static constexpr Field kUnlockSent[] = {instance_id, request_id, execution_id};
  switch (type) {
    case EventType::execution_started: return kExecutionStarted;
    case EventType::execution_completed: return kExecutionCompleted;
    case EventType::execution_terminated: return kTerminated;
    case EventType::execution_suspended:
    case EventType::execution_resumed: return kReason;
    case EventType::execution_rewound: return kRewound;
    case EventType::orchestrator_started:
    case EventType::orchestrator_completed: return {};
    case EventType::task_scheduled: return kNameInput;
    case EventType::task_completed: return kCompleted;
    case EventType::task_failed: return kFailed;
    case EventType::timer_created: return kTimerCreated;
    case EventType::timer_fired: return kTimerFired;
    case EventType::event_raised: return kNameInput;
    case EventType::event_sent: return kEventSent;
    case EventType::sub_orchestration_instance_created: return kSubCreated;
    case EventType::sub_orchestration_instance_completed: return kCompleted;
    case EventType::sub_orchestration_instance_failed: return kFailed;
    case EventType::continue_as_new: return kContinueAsNew;
    case EventType::entity_operation_called: return kOpCalled;
    case EventType::entity_operation_signaled: return kOpSignaled;
    case EventType::entity_operation_completed: return kOpCompleted;
    case EventType::entity_operation_failed: return kOpFailed;
    case EventType::entity_lock_requested: return kLockRequested;
    case EventType::entity_lock_granted: return kLockGranted;
    case EventType::entity_unlock_sent: return kUnlockSent;
  }
  assert(false && "fields_of: not an EventType enumerator");
  return {};
}

constexpr std::size_t kFailureFields = 3;  // [error_type, message, stack_trace]
constexpr std::size_t kParentFields = 4;   // [name, instance_id, execution_id, task_scheduled_id]

// ---- encoding ----------------------------------------------------------------

/// The packer's stream: appends straight into the result, so there is no
/// intermediate sbuffer to copy out of.
struct StringSink {
  std::string* out;
  void write(const char* data, std::size_t size) { out->append(data, size); }
};
using Packer = msgpack::packer<StringSink>;

uint32_t checked_size(std::size_t size) {
  assert(size <= std::numeric_limits<uint32_t>::max() && "msgpack sizes are 32-bit");
  return static_cast<uint32_t>(size);
}

void write_str(Packer& pk, const std::string& s) {
  pk.pack_str(checked_size(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

/// Payloads are complete msgpack values carried as bin, so they are never
/// re-parsed; the empty payload ("no value") is nil.
void write_payload(Packer& pk, const Payload& p) {
  if (p.empty()) {
    pk.pack_nil();
    return;
  }
  pk.pack_bin(checked_size(p.size()));
  pk.pack_bin_body(p.data(), static_cast<uint32_t>(p.size()));
}

void write_time(Packer& pk, TimePoint t) { pk.pack_int64(t.time_since_epoch().count()); }

void write_field(Packer& pk, const HistoryEvent& e, Field f) {
  switch (f) {
    case Field::name: write_str(pk, e.name); return;
    case Field::instance_id: write_str(pk, e.instance_id); return;
    case Field::execution_id: write_str(pk, e.execution_id); return;
    case Field::input: write_payload(pk, e.input); return;
    case Field::result: write_payload(pk, e.result); return;
    case Field::task_scheduled_id: pk.pack_int32(e.task_scheduled_id); return;
    case Field::fire_at: write_time(pk, e.fire_at); return;
    case Field::failure:
      if (!e.failure) {
        pk.pack_nil();
        return;
      }
      pk.pack_array(kFailureFields);
      write_str(pk, e.failure->error_type);
      write_str(pk, e.failure->message);
      write_str(pk, e.failure->stack_trace);
      return;
    case Field::parent:
      if (!e.parent) {
        pk.pack_nil();
        return;
      }
      pk.pack_array(kParentFields);
      write_str(pk, e.parent->name);
      write_str(pk, e.parent->instance_id);
      write_str(pk, e.parent->execution_id);
      pk.pack_int32(e.parent->task_scheduled_id);
      return;
    case Field::status: pk.pack_uint8(static_cast<uint8_t>(e.status)); return;
    case Field::request_id: write_str(pk, e.request_id); return;
    case Field::lock_set:
      pk.pack_array(checked_size(e.lock_set.size()));
      for (const auto& id : e.lock_set) write_str(pk, id);
      return;
    case Field::version: write_str(pk, e.version); return;
    case Field::recursive: pk.pack(e.recursive); return;
  }
}

// How many of a type's fields every event carries. The rest are optional
// trailing fields, added after format version 1 (sender details in entity
// inboxes): written only when one of them is set, so events without them
// keep their version-1 bytes, and readers of version 1 ignore them.
std::size_t required_fields(EventType type) {
  switch (type) {
    case EventType::execution_started: return 5;  // + scheduled start, version
    case EventType::execution_terminated: return 1;  // + recursive
    case EventType::sub_orchestration_instance_created: return 3;  // + version
    case EventType::entity_operation_called: return 4;
    case EventType::entity_operation_signaled: return 5;
    case EventType::entity_lock_requested: return 2;
    case EventType::entity_unlock_sent: return 2;
    default: return fields_of(type).size();
  }
}

bool is_default(const HistoryEvent& e, Field f) {
  switch (f) {
    case Field::instance_id: return e.instance_id.empty();
    case Field::execution_id: return e.execution_id.empty();
    case Field::fire_at: return e.fire_at == TimePoint{};
    case Field::version: return e.version.empty();
    case Field::recursive: return !e.recursive;
    default: return false;
  }
}

void write_event(Packer& pk, const HistoryEvent& e) {
  auto fields = fields_of(e.type);
  const std::size_t required = required_fields(e.type);
  if (std::all_of(fields.begin() + static_cast<std::ptrdiff_t>(required), fields.end(),
                  [&](Field f) { return is_default(e, f); })) {
    fields = fields.first(required);
  }
  pk.pack_array(static_cast<uint32_t>(kEventCommonFields + fields.size()));
  pk.pack_uint8(static_cast<uint8_t>(e.type));
  pk.pack_int32(e.event_id);
  write_time(pk, e.timestamp);
  for (Field f : fields) write_field(pk, e, f);
}

/// An upper-bound guess of the encoded size, so the result grows at most once
/// or twice: msgpack headers are at most 9 bytes per value.
std::size_t size_hint(const HistoryEvent& e) {
  std::size_t n = 48 + e.name.size() + e.instance_id.size() + e.execution_id.size() + e.version.size() +
                  e.input.size() + e.result.size() + e.request_id.size();
  for (const auto& id : e.lock_set) n += 5 + id.size();
  return n;
}

// ---- decoding ----------------------------------------------------------------

using msgpack::type::object_type;

/// Our own nesting is 4 deep (batch, events, event, failure/parent/lock_set);
/// the rest is room for fields a newer writer may append.
constexpr std::size_t kMaxDepth = 32;

/// Strings and bins point into the caller's buffer instead of being copied
/// into the msgpack zone: they are copied exactly once, into the event.
bool reference_all(object_type, std::size_t, void*) { return true; }

const char* kind_name(const msgpack::object& o) {
  switch (o.type) {
    case object_type::NIL: return "nil";
    case object_type::BOOLEAN: return "bool";
    case object_type::POSITIVE_INTEGER:
    case object_type::NEGATIVE_INTEGER: return "int";
    case object_type::FLOAT32:
    case object_type::FLOAT64: return "float";
    case object_type::STR: return "str";
    case object_type::BIN: return "bin";
    case object_type::ARRAY: return "array";
    case object_type::MAP: return "map";
    case object_type::EXT: return "ext";
  }
  return "unknown";
}

/// Where a decode error is: "event 3 (TaskFailed)" in a batch, "event
/// (TaskFailed)" alone. Messages are built only on failure.
struct Where {
  std::ptrdiff_t index = -1;  // -1: a lone event
  std::string_view type;      // empty until the type is known

  Status error(std::string_view what) const {
    std::string m = "event";
    if (index >= 0) m += " " + std::to_string(index);
    if (!type.empty()) m += " (" + std::string(type) + ")";
    m += ": ";
    m += what;
    return Status::corruption(std::move(m));
  }
  Status expected(const char* kind, std::string_view field, const msgpack::object& got) const {
    return error(std::string("expected ") + kind + " for " + std::string(field) + ", got " +
                 kind_name(got));
  }
};

Status read_str(const msgpack::object& o, const Where& w, std::string_view field, std::string& out) {
  if (o.type != object_type::STR) return w.expected("str", field, o);
  out.assign(o.via.str.ptr, o.via.str.size);
  return {};
}

Status read_payload(const msgpack::object& o, const Where& w, Field f, Payload& out) {
  if (o.type == object_type::NIL) {
    out.clear();
    return {};
  }
  if (o.type != object_type::BIN) return w.expected("bin or nil", field_name(f), o);
  out.assign(o.via.bin.ptr, o.via.bin.size);
  return {};
}

Status read_int(const msgpack::object& o, const Where& w, std::string_view field, int64_t min,
                int64_t max, int64_t& out) {
  if (o.type == object_type::POSITIVE_INTEGER) {
    if (o.via.u64 > static_cast<uint64_t>(max)) {
      return w.error("int " + std::to_string(o.via.u64) + " out of range for " + std::string(field));
    }
    out = static_cast<int64_t>(o.via.u64);
    return {};
  }
  if (o.type == object_type::NEGATIVE_INTEGER) {
    if (o.via.i64 < min) {
      return w.error("int " + std::to_string(o.via.i64) + " out of range for " + std::string(field));
    }
    out = o.via.i64;
    return {};
  }
  return w.expected("int", field, o);
}

Status read_i32(const msgpack::object& o, const Where& w, std::string_view field, int32_t& out) {
  int64_t v = 0;
  Status s = read_int(o, w, field, std::numeric_limits<int32_t>::min(),
                      std::numeric_limits<int32_t>::max(), v);
  out = static_cast<int32_t>(v);
  return s;
}

Status read_time(const msgpack::object& o, const Where& w, std::string_view field, TimePoint& out) {
  int64_t v = 0;
  Status s = read_int(o, w, field, std::numeric_limits<int64_t>::min(),
                      std::numeric_limits<int64_t>::max(), v);
  out = TimePoint(std::chrono::milliseconds(v));
  return s;
}

/// Checks `o` is an array of at least `min` elements (more are ignored: they
/// come from a newer writer).
Status check_array(const msgpack::object& o, const Where& w, std::string_view what,
                   std::size_t min) {
  if (o.type != object_type::ARRAY) return w.expected("array", what, o);
  if (o.via.array.size < min) {
    return w.error("expected at least " + std::to_string(min) + " elements for " +
                   std::string(what) + ", got " + std::to_string(o.via.array.size));
  }
  return {};
}

Status read_field(const msgpack::object& o, const Where& w, Field f, HistoryEvent& e) {
  switch (f) {
    case Field::name: return read_str(o, w, "name", e.name);
    case Field::instance_id: return read_str(o, w, "instance_id", e.instance_id);
    case Field::execution_id: return read_str(o, w, "execution_id", e.execution_id);
    case Field::input: return read_payload(o, w, f, e.input);
    case Field::result: return read_payload(o, w, f, e.result);
    case Field::task_scheduled_id: return read_i32(o, w, "task_scheduled_id", e.task_scheduled_id);
    case Field::fire_at: return read_time(o, w, "fire_at", e.fire_at);
    case Field::failure: {
      if (o.type == object_type::NIL) return {};
      if (Status s = check_array(o, w, "failure", kFailureFields); !s) return s;
      const msgpack::object* a = o.via.array.ptr;
      FailureDetails& d = e.failure.emplace();
      if (Status s = read_str(a[0], w, "failure.error_type", d.error_type); !s) return s;
      if (Status s = read_str(a[1], w, "failure.message", d.message); !s) return s;
      return read_str(a[2], w, "failure.stack_trace", d.stack_trace);
    }
    case Field::parent: {
      if (o.type == object_type::NIL) return {};
      if (Status s = check_array(o, w, "parent", kParentFields); !s) return s;
      const msgpack::object* a = o.via.array.ptr;
      ParentInstance& p = e.parent.emplace();
      if (Status s = read_str(a[0], w, "parent.name", p.name); !s) return s;
      if (Status s = read_str(a[1], w, "parent.instance_id", p.instance_id); !s) return s;
      if (Status s = read_str(a[2], w, "parent.execution_id", p.execution_id); !s) return s;
      return read_i32(a[3], w, "parent.task_scheduled_id", p.task_scheduled_id);
    }
    case Field::status: {
      int64_t v = 0;
      if (Status s = read_int(o, w, "status", 0, kMaxOrchestrationStatus, v); !s) return s;
      e.status = static_cast<OrchestrationStatus>(v);
      return {};
    }
    case Field::request_id: return read_str(o, w, "request_id", e.request_id);
    case Field::lock_set: {
      if (Status s = check_array(o, w, "lock_set", 0); !s) return s;
      e.lock_set.resize(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        const msgpack::object& id = o.via.array.ptr[i];
        if (id.type != object_type::STR) {
          return w.expected("str", "lock_set[" + std::to_string(i) + "]", id);
        }
        e.lock_set[i].assign(id.via.str.ptr, id.via.str.size);
      }
      return {};
    }
    case Field::version: return read_str(o, w, "version", e.version);
    case Field::recursive:
      if (o.type != object_type::BOOLEAN) return w.expected("bool", "recursive", o);
      e.recursive = o.via.boolean;
      return {};
  }
  return w.error("internal: unknown field");
}

/// Decodes one event array into `e`, which must be default-constructed.
Status read_event(const msgpack::object& o, std::ptrdiff_t index, HistoryEvent& e) {
  Where w{index, {}};
  if (o.type != object_type::ARRAY) return w.error(std::string("expected array, got ") + kind_name(o));
  const uint32_t size = o.via.array.size;
  if (size < kEventCommonFields) {
    return w.error("expected at least " + std::to_string(kEventCommonFields) +
                   " fields [type, event_id, timestamp_ms], got " + std::to_string(size));
  }
  const msgpack::object* a = o.via.array.ptr;
  const msgpack::object& type = a[kEventTypePos];
  if (type.type != object_type::POSITIVE_INTEGER || type.via.u64 == 0 ||
      type.via.u64 > kMaxEventType) {
    if (type.type == object_type::POSITIVE_INTEGER || type.type == object_type::NEGATIVE_INTEGER) {
      const std::string n = type.type == object_type::POSITIVE_INTEGER
                                ? std::to_string(type.via.u64)
                                : std::to_string(type.via.i64);
      return w.error("unknown event type " + n);
    }
    return w.expected("int", "type", type);
  }
  e.type = static_cast<EventType>(type.via.u64);
  w.type = event_type_name(e.type);
  const auto fields = fields_of(e.type);
  const std::size_t required = required_fields(e.type);
  if (size < kEventCommonFields + required) {
    return w.error("expected at least " + std::to_string(kEventCommonFields + required) +
                   " fields, got " + std::to_string(size));
  }
  if (Status s = read_i32(a[kEventIdPos], w, "event_id", e.event_id); !s) return s;
  if (Status s = read_time(a[kEventTimestampPos], w, "timestamp_ms", e.timestamp); !s) return s;
  const std::size_t present = std::min<std::size_t>(fields.size(), size - kEventCommonFields);
  for (std::size_t i = 0; i < present; ++i) {
    if (Status s = read_field(a[kEventCommonFields + i], w, fields[i], e); !s) return s;
  }
  return {};
}

/// Parses `bytes` as exactly one msgpack value, referencing `bytes`. msgpack-c
/// reports malformed input by throwing; this is the boundary where that
/// becomes Errc::corruption.
Status unpack_one(std::string_view bytes, const char* what, msgpack::object_handle& out) {
  const std::size_t n = bytes.size();
  if (n == 0) return Status::corruption(std::string(what) + ": empty input");
  // An array, map, str or bin of n elements needs at least n input bytes, so
  // no declared size above the input length can be valid; msgpack-c checks
  // these limits before it allocates for an array or map.
  const msgpack::unpack_limit limit(n, n, n, n, n, kMaxDepth);
  std::size_t offset = 0;
  try {
    out = msgpack::unpack(bytes.data(), n, offset, reference_all, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    return Status::corruption(std::string(what) + ": truncated (" + std::to_string(n) +
                              " bytes end inside a value)");
  } catch (const msgpack::depth_size_overflow&) {
    return Status::corruption(std::string(what) + ": nested deeper than " +
                              std::to_string(kMaxDepth) + " levels");
  } catch (const msgpack::size_overflow& e) {
    return Status::corruption(std::string(what) + ": a declared size exceeds the input (" +
                              e.what() + ")");
  } catch (const msgpack::unpack_error& e) {
    return Status::corruption(std::string(what) + ": malformed msgpack (" + e.what() + ")");
  }
  if (out.zone() == nullptr) {
    return Status::corruption(std::string(what) + ": malformed msgpack");
  }
  if (offset != n) {
    return Status::corruption(std::string(what) + ": " + std::to_string(n - offset) +
                              " trailing bytes after the value");
  }
  return {};
}

}  // namespace

std::string encode_event(const HistoryEvent& event) {
  std::string out;
  out.reserve(size_hint(event));
  StringSink sink{&out};
  Packer pk(sink);
  write_event(pk, event);
  return out;
}

Result<HistoryEvent> decode_event(std::string_view bytes) {
  msgpack::object_handle oh;
  if (Status s = unpack_one(bytes, "event", oh); !s) return s;
  HistoryEvent e;
  if (Status s = read_event(oh.get(), -1, e); !s) return s;
  return e;
}

std::string encode_events(std::span<const HistoryEvent> events) {
  std::size_t hint = 16;
  for (const auto& e : events) hint += size_hint(e);
  std::string out;
  out.reserve(hint);
  StringSink sink{&out};
  Packer pk(sink);
  pk.pack_array(kBatchFields);
  pk.pack_uint8(kFormatVersion);
  pk.pack_array(checked_size(events.size()));
  for (const auto& e : events) write_event(pk, e);
  return out;
}

Result<std::vector<HistoryEvent>> decode_events(std::string_view bytes) {
  msgpack::object_handle oh;
  if (Status s = unpack_one(bytes, "batch", oh); !s) return s;
  const msgpack::object& batch = oh.get();
  auto batch_error = [](std::string what) { return Status::corruption("batch: " + std::move(what)); };
  if (batch.type != object_type::ARRAY) {
    return batch_error(std::string("expected array, got ") + kind_name(batch));
  }
  if (batch.via.array.size < kBatchFields) {
    return batch_error("expected at least 2 elements [format_version, events], got " +
                       std::to_string(batch.via.array.size));
  }
  const msgpack::object& version = batch.via.array.ptr[kBatchVersionPos];
  if (version.type != object_type::POSITIVE_INTEGER) {
    return batch_error(std::string("expected int for format_version, got ") + kind_name(version));
  }
  if (version.via.u64 == 0) return batch_error("unknown format version 0");
  if (version.via.u64 > kFormatVersion) {
    return batch_error("format version " + std::to_string(version.via.u64) +
                       " is newer than this reader's (" + std::to_string(kFormatVersion) + ")");
  }
  const msgpack::object& list = batch.via.array.ptr[kBatchEventsPos];
  if (list.type != object_type::ARRAY) {
    return batch_error(std::string("expected array for events, got ") + kind_name(list));
  }
  // A valid event takes at least 4 bytes; the cap keeps a list of garbage
  // one-byte elements from reserving hundreds of bytes per input byte.
  std::vector<HistoryEvent> events;
  events.reserve(std::min<std::size_t>(list.via.array.size, bytes.size() / 4));
  for (uint32_t i = 0; i < list.via.array.size; ++i) {
    if (Status s = read_event(list.via.array.ptr[i], i, events.emplace_back()); !s) return s;
  }
  return events;
}

}  // namespace durable::orchestration
