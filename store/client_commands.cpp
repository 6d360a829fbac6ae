// The client's commands: starts, messages to instances and entities, and
// reads of an instance's row and history.
#include <algorithm>
#include <map>

#include "orchestration/codec.hpp"
#include "store/commands.hpp"
#include "store/reply.hpp"
#include "store/rows.hpp"

namespace durable::store {

using namespace reply;
using orchestration::encode_events;

namespace {

InstanceRow start_row(const HistoryEvent& started, TimePoint now) {
  InstanceRow row;
  row.id = started.instance_id;
  row.name = started.name;
  row.input = started.input;
  row.created = now;
  row.updated = now;
  row.execution_id = started.execution_id;
  row.orchestration_version = started.version;
  row.scheduled_start = started.fire_at;
  return row;
}

}  // namespace

Argv Commands::start_command(const HistoryEvent& started, TimePoint now, std::string_view starter) const {
  const std::string& id = started.instance_id;
  const uint32_t p = partition_of(id);
  const std::string row_key = keys_.instance(p, id);
  Commit c = Commit::create(row_key);
  // Whatever the previous (finished) execution left is not for this one: its
  // history (there is none without a row), and messages sent to the id
  // before this start. The row holds the start itself (start_event).
  c.write("DEL", keys_.history(p, id), {});
  // The finished row, kept a while for whoever waits on that execution
  // (Client::wait returns the outcome of the run it began watching).
  c.copy(row_key, keys_.previous(p, id));
  c.write("EXPIRE", keys_.previous(p, id), {kPreviousRowTtlSeconds});
  c.only_when_replacing();
  c.write("DEL", keys_.inbox(p, id), {});
  c.write("HSET", row_key, row_fields(start_row(started, now)));
  if (starter.empty()) {
    c.write("XADD", keys_.wake(p), {"MAXLEN", "~", kWakeMaxLen, "*", "i", id});
  } else {
    c.write("XADD", keys_.wake(p), {"MAXLEN", "~", kWakeMaxLen, "*", "i", id, "by", starter});
  }
  c.write("SADD", keys_.active(p), {id});
  if (started.fire_at > now) {
    // The owner is woken when it is due, as for a durable timer.
    c.write("ZADD", keys_.timers(p), {ms_text(started.fire_at), timer_member(id, started.execution_id, kStartTimerId)});
  }
  return std::move(c).argv();
}

Result<LoadedInstance> Commands::parse_start(const HistoryEvent& started, TimePoint now, const Result<ReplyPtr>& reply) {
  auto version = Commit::parse_reply(reply);
  if (!version) {
    if (version.status().code() == Errc::already_exists) {
      return Status::already_exists("an instance with id '" + started.instance_id +
                                    "' already exists and has not finished");
    }
    return version.status();
  }
  LoadedInstance loaded;
  loaded.row = start_row(started, now);
  loaded.row->version = *version;
  loaded.start = start_event(*loaded.row);
  return loaded;
}

Argv Commands::send_command(std::string_view id, const HistoryEvent& message) const {
  Commit c = Commit::live(keys_.instance(partition_of(id), id));
  append_message(c, {std::string(id), message, {}});
  return std::move(c).argv();
}

Status Commands::parse_send(std::string_view id, const Result<ReplyPtr>& reply) {
  auto done = Commit::parse_reply(reply);
  if (done) return Status::ok();
  switch (done.status().code()) {
    case Errc::not_found:
      return Status::not_found("no instance with id '" + std::string(id) + "'");
    case Errc::failed_precondition:
      return Status::failed_precondition("instance '" + std::string(id) + "' has already finished");
    default:
      return done.status();
  }
}

std::vector<Argv> Commands::messages_commands(std::span<const OutboundMessage> messages) const {
  std::vector<std::vector<std::string>> commands;
  if (messages.empty()) return commands;
  commands.reserve(messages.size() + 4);
  commands.push_back({"MULTI"});
  // One wake notice and one active-set update per partition, however many
  // messages and targets it gets.
  std::map<uint32_t, std::vector<std::string_view>> targets;
  for (const OutboundMessage& m : messages) {
    const uint32_t p = partition_of(m.target_id);
    const HistoryEvent one[] = {m.event};
    if (m.target_execution_id.empty()) {
      commands.push_back({"XADD", keys_.inbox(p, m.target_id), "*", "e", encode_events(one)});
    } else {
      commands.push_back({"XADD", keys_.inbox(p, m.target_id), "*", "e", encode_events(one), "x", m.target_execution_id});
    }
    targets[p].push_back(m.target_id);
  }
  for (auto& [p, ids] : targets) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::string lines;
    std::vector<std::string> sadd = {"SADD", keys_.active(p)};
    for (std::string_view id : ids) {
      if (!lines.empty()) lines += '\n';
      lines += id;
      sadd.emplace_back(id);
    }
    commands.push_back({"XADD", keys_.wake(p), "MAXLEN", "~", std::string(kWakeMaxLen), "*", "i", std::move(lines)});
    commands.push_back(std::move(sadd));
  }
  commands.push_back({"EXEC"});
  return commands;
}

Status Commands::parse_messages(std::span<const Result<ReplyPtr>> replies) {
  for (auto& r : replies) {
    if (!r) return r.status();
  }
  if (replies.empty()) return Status::ok();
  const redisReply& exec = *replies.back().value();
  if (is_nil(exec)) return Status::internal("the transaction writing the messages was aborted");
  for (size_t i = 0; i < exec.elements; ++i) {
    if (exec.element[i]->type == REDIS_REPLY_ERROR) {
      return Status::internal("writing the messages failed: " + std::string(str(exec.element[i])));
    }
  }
  return Status::ok();
}

// ------------------------------------------------------------------ reads

Argv Commands::get_command(std::string_view id) const {
  return {"HGETALL", keys_.instance(partition_of(id), id)};
}

Result<std::optional<InstanceRow>> Commands::parse_get(std::string_view id, const Result<ReplyPtr>& reply) {
  return parse_optional_hash<InstanceRow>(reply, [&](const redisReply& hash) { return parse_row(id, hash); });
}

Argv Commands::history_command(std::string_view id) const {
  return {"XRANGE", keys_.history(partition_of(id), id), "-", "+"};
}

Result<std::vector<HistoryEvent>> Commands::parse_history(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  std::vector<HistoryEvent> events;
  if (Status s = reply::parse_history(**reply, events); !s) return s;
  return events;
}

}  // namespace durable::store
