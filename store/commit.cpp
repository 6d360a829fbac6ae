#include "store/commit.hpp"

#include <algorithm>

#include "store/redis_connection.hpp"

namespace durable::store {

Commit::Commit(std::string guard, std::string row_key) {
  guard_.push_back(std::move(guard));
  key_index(row_key);  // KEYS[1] is always the row
}

Commit Commit::fenced(std::string row_key, std::string lease_key, std::string_view node,
                      uint64_t epoch, uint64_t expected_version) {
  Commit c("fenced", std::move(row_key));
  c.guard_.push_back(c.key_index(lease_key));
  c.guard_.emplace_back(node);
  c.guard_.push_back(std::to_string(epoch));
  c.guard_.push_back(std::to_string(expected_version));
  return c;
}

Commit Commit::idle(std::string row_key, const std::string& inbox_key, uint64_t expected_version) {
  Commit c("idle", std::move(row_key));
  c.guard_.push_back(c.key_index(inbox_key));
  c.guard_.push_back(std::to_string(expected_version));
  return c;
}

Commit Commit::create(std::string row_key) { return Commit("create", std::move(row_key)); }
Commit Commit::live(std::string row_key) { return Commit("live", std::move(row_key)); }
Commit Commit::finished(std::string row_key) { return Commit("final", std::move(row_key)); }

std::string Commit::key_index(const std::string& key) {
  auto [it, inserted] = key_positions_.try_emplace(key, keys_.size() + 1);
  if (inserted) keys_.push_back(key);
  return std::to_string(it->second);
}

void Commit::write(std::string_view command, const std::string& key,
                   std::initializer_list<std::string_view> args) {
  ops_.emplace_back(command);
  ops_.push_back(key_index(key));
  ops_.push_back(std::to_string(args.size()));
  ops_.insert(ops_.end(), args.begin(), args.end());
}

void Commit::write(std::string_view command, const std::string& key,
                   const std::vector<std::string>& args) {
  ops_.emplace_back(command);
  ops_.push_back(key_index(key));
  ops_.push_back(std::to_string(args.size()));
  ops_.insert(ops_.end(), args.begin(), args.end());
}

void Commit::write_members(std::string_view command, const std::string& key, const std::vector<std::string>& members) {
  for (size_t first = 0; first < members.size(); first += kMaxMembers) {
    const size_t n = std::min(kMaxMembers, members.size() - first);
    ops_.emplace_back(command);
    ops_.push_back(key_index(key));
    ops_.push_back(std::to_string(n));
    ops_.insert(ops_.end(), members.begin() + static_cast<std::ptrdiff_t>(first),
                members.begin() + static_cast<std::ptrdiff_t>(first + n));
  }
}

void Commit::remove_if_drained(const std::string& set_key, std::string_view member, const std::string& stream_key) {
  ops_.emplace_back("SREMIFDRAINED");
  ops_.push_back(key_index(set_key));
  ops_.emplace_back("2");
  ops_.emplace_back(member);
  ops_.push_back(key_index(stream_key));
}

std::vector<std::string> Commit::argv() && {
  std::vector<std::string> argv;
  argv.reserve(3 + keys_.size() + guard_.size() + ops_.size());
  argv.emplace_back("FCALL");
  argv.emplace_back("durable_commit");
  argv.push_back(std::to_string(keys_.size()));
  for (auto* part : {&keys_, &guard_, &ops_}) {
    argv.insert(argv.end(), std::make_move_iterator(part->begin()), std::make_move_iterator(part->end()));
  }
  return argv;
}


std::vector<std::string> Commit::merge(std::vector<std::vector<std::string>>&& argvs) {
  size_t keys = 0, size = 4;
  for (const auto& a : argvs) {
    keys += std::stoul(a[2]);
    size += a.size() - 1;
  }
  std::vector<std::string> merged;
  merged.reserve(size);
  merged.emplace_back("FCALL");
  merged.emplace_back("durable_commit_many");
  merged.push_back(std::to_string(keys));
  for (auto& a : argvs) {  // every commit's keys, in order
    const size_t n = std::stoul(a[2]);
    merged.insert(merged.end(), std::make_move_iterator(a.begin() + 3), std::make_move_iterator(a.begin() + 3 + n));
  }
  merged.push_back(std::to_string(argvs.size()));
  for (auto& a : argvs) {  // then each one's counts and arguments
    const size_t n = std::stoul(a[2]);
    merged.push_back(a[2]);
    merged.push_back(std::to_string(a.size() - 3 - n));
    merged.insert(merged.end(), std::make_move_iterator(a.begin() + 3 + n), std::make_move_iterator(a.end()));
  }
  return merged;
}

std::vector<Result<uint64_t>> Commit::parse_many_reply(const Result<ReplyPtr>& reply, size_t count) {
  std::vector<Result<uint64_t>> out;
  out.reserve(count);
  auto all = [&](const Status& s) {
    while (out.size() < count) out.emplace_back(s);
    return out;
  };
  if (!reply) return all(reply.status());
  auto items = as_array(**reply, count);
  if (!items) return all(items.status());
  for (size_t i = 0; i < count; ++i) {
    const redisReply& r = *(*items)[i];
    if (r.type == REDIS_REPLY_ERROR) {
      out.emplace_back(error_reply_status(std::string_view(r.str, r.len)));
    } else if (auto version = as_integer(r); version) {
      out.emplace_back(static_cast<uint64_t>(*version));
    } else {
      out.emplace_back(version.status());
    }
  }
  return out;
}

Result<uint64_t> Commit::parse_reply(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  auto version = as_integer(**reply);
  if (!version) return version.status();
  return static_cast<uint64_t>(*version);
}

}  // namespace durable::store
