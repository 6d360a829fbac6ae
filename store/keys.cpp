#include "store/keys.hpp"

#include <cassert>
#include <charconv>

namespace durable::store {

uint32_t fnv1a(std::string_view bytes) {
  uint32_t hash = 2166136261u;  // FNV offset basis
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 16777619u;  // FNV prime
  }
  return hash;
}

uint32_t partition_of(std::string_view id, uint32_t partition_count) {
  assert(partition_count > 0);
  if (const auto bang = id.rfind('!'); bang != std::string_view::npos && bang + 1 < id.size()) {
    uint64_t pinned = 0;
    const char* first = id.data() + bang + 1;
    const char* last = id.data() + id.size();
    const auto [end, ec] = std::from_chars(first, last, pinned);
    if (ec == std::errc() && end == last) return static_cast<uint32_t>(pinned % partition_count);
  }
  return fnv1a(id) % partition_count;
}

std::string listing_member(int64_t created_ms, std::string_view id) {
  std::string digits = std::to_string(created_ms < 0 ? 0 : created_ms);
  std::string member(digits.size() < kListingTimeDigits ? kListingTimeDigits - digits.size() : 0, '0');
  member += digits;
  member += ':';
  member += id;
  return member;
}

std::string Keys::meta() const { return "dt:{" + hub_ + "}:meta"; }
std::string Keys::members() const { return "dt:{" + hub_ + "}:members"; }
std::string Keys::nodes() const { return "dt:{" + hub_ + "}:nodes"; }

std::string Keys::tagged(uint32_t partition, std::string_view suffix) const {
  std::string key = "dt:{" + hub_ + ":" + std::to_string(partition) + "}:";
  key += suffix;
  return key;
}

std::string Keys::history(uint32_t partition, std::string_view id) const {
  return tagged(partition, "h:") + std::string(id);
}
std::string Keys::instance(uint32_t partition, std::string_view id) const {
  return tagged(partition, "i:") + std::string(id);
}
std::string Keys::previous(uint32_t partition, std::string_view id) const {
  return tagged(partition, "prev:") + std::string(id);
}
std::string Keys::inbox(uint32_t partition, std::string_view id) const {
  return tagged(partition, "in:") + std::string(id);
}
std::string Keys::entity(uint32_t partition, std::string_view id) const {
  return tagged(partition, "e:") + std::string(id);
}
std::string Keys::entity_requests(uint32_t partition, std::string_view id) const {
  return tagged(partition, "er:") + std::string(id);
}
std::string Keys::entities(uint32_t partition) const { return tagged(partition, "entities"); }
std::string Keys::timers(uint32_t partition) const { return tagged(partition, "timers"); }
std::string Keys::wake(uint32_t partition) const { return tagged(partition, "wake"); }
std::string Keys::active(uint32_t partition) const { return tagged(partition, "active"); }
std::string Keys::lease(uint32_t partition) const { return tagged(partition, "lease"); }
std::string Keys::index(uint32_t partition) const { return tagged(partition, "index"); }
std::string Keys::listing(uint32_t partition, int status) const {
  return tagged(partition, "ls:") + std::to_string(status);
}
std::string Keys::ids(uint32_t partition) const { return tagged(partition, "ids"); }
std::string Keys::finished(uint32_t partition, int status) const {
  return tagged(partition, "finished:") + std::to_string(status);
}
std::string Keys::done(uint32_t partition) const { return tagged(partition, "done"); }
std::string Keys::dead_letters(uint32_t partition) const { return tagged(partition, "dead"); }

}  // namespace durable::store
