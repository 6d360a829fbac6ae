#include "store/dead_letters.hpp"

#include <charconv>

#include "orchestration/codec.hpp"
#include "store/commands.hpp"
#include "store/keys.hpp"
#include "store/reply.hpp"
#include "store/store.hpp"

namespace durable::store {

Result<DeadLetters::Where> DeadLetters::parse_id(std::string_view id) const {
  const auto dash = id.find('-');
  Where w;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + std::min(dash, id.size()), w.partition);
  const std::string_view sid = dash == std::string_view::npos ? std::string_view() : id.substr(dash + 1);
  const auto [ms, seq] = reply::stream_id(sid);
  const bool well_formed = ec == std::errc() && end == id.data() + dash && w.partition < store_.partitions() &&
                           !sid.empty() && sid == std::to_string(ms) + "-" + std::to_string(seq);
  if (!well_formed) {
    return Status::invalid_argument("'" + std::string(id.substr(0, 200)) +
                                    "' is not a dead letter id (<partition>-<stream id>, as listed)");
  }
  w.stream_id = std::string(sid);
  return w;
}

Result<DeadLetterPage> DeadLetters::list(size_t page_size, std::string_view continuation) {
  if (page_size == 0) return Status::invalid_argument("the page size is 0");
  Where from{0, {}};
  if (!continuation.empty()) {
    auto where = parse_id(continuation);
    if (!where) return Status::invalid_argument("malformed continuation: " + where.status().message());
    from = std::move(*where);
  }
  DeadLetterPage page;
  for (uint32_t p = from.partition; p < store_.partitions(); ++p) {
    const size_t wanted = page_size - page.letters.size();
    const std::string end = p == from.partition && !from.stream_id.empty() ? "(" + from.stream_id : "+";
    auto some = Commands::parse_dead_letters(
        store_.run(Argv{"XREVRANGE", store_.keys().dead_letters(p), end, "-", "COUNT", std::to_string(wanted)}));
    if (!some) return some.status();
    for (DeadLetter& d : *some) {
      d.id = std::to_string(p) + "-" + d.id;
      page.letters.push_back(std::move(d));
    }
    if (page.letters.size() == page_size) {
      page.continuation = page.letters.back().id;
      break;
    }
  }
  return page;
}

Result<DeadLetter> DeadLetters::get(std::string_view id) {
  auto where = parse_id(id);
  if (!where) return where.status();
  auto found = Commands::parse_dead_letters(
      store_.run(Argv{"XRANGE", store_.keys().dead_letters(where->partition), where->stream_id, where->stream_id}));
  if (!found) return found.status();
  if (found->empty()) return Status::not_found("no dead letter with id '" + std::string(id) + "'");
  DeadLetter d = std::move(found->front());
  d.id = std::string(id);
  return d;
}

Status DeadLetters::retry(std::string_view id) {
  auto letter = get(id);
  if (!letter) return letter.status();
  auto events = orchestration::decode_events(letter->bytes);
  if (!events || events->size() != 1) {
    return Status::failed_precondition(
        "dead letter '" + std::string(id) + "' cannot be retried: " +
        (events ? "it holds " + std::to_string(events->size()) + " messages, not one" : events.status().message()) +
        "; discard it");
  }
  const uint32_t p = store_.partition_of(letter->instance_id);
  const Where where = *parse_id(id);
  if (p != where.partition) {
    return Status::failed_precondition("dead letter '" + std::string(id) + "' names '" + letter->instance_id +
                                       "', which another partition owns; discard it");
  }
  const Keys& k = store_.keys();
  auto moved = store_.run(Argv{"FCALL", "durable_requeue", "4", k.dead_letters(p), k.inbox(p, letter->instance_id),
                           k.wake(p), k.active(p), where.stream_id, letter->bytes, letter->instance_id,
                           std::string(kWakeMaxLen)});
  if (!moved) return moved.status();
  if ((*moved)->type != REDIS_REPLY_INTEGER) return Status::internal("durable_requeue answered no number");
  if ((*moved)->integer == 0) return Status::not_found("no dead letter with id '" + std::string(id) + "'");
  return Status::ok();
}

Status DeadLetters::discard(std::string_view id) {
  auto where = parse_id(id);
  if (!where) return where.status();
  auto deleted = store_.run(Argv{"XDEL", store_.keys().dead_letters(where->partition), where->stream_id});
  if (!deleted) return deleted.status();
  if ((*deleted)->type != REDIS_REPLY_INTEGER) return Status::internal("XDEL answered no number");
  if ((*deleted)->integer == 0) return Status::not_found("no dead letter with id '" + std::string(id) + "'");
  return Status::ok();
}

}  // namespace durable::store
