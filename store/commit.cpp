#include "store/commit.hpp"

#include <algorithm>
#include <iterator>

#include "store/redis_connection.hpp"

namespace durable::store {

namespace {

// Guard codes, as the function reads them.
enum Guard : uint32_t { kFenced = 1, kIdle = 2, kCreate = 3, kLive = 4, kFinal = 5, kFailed = 6 };

// An unknown command gets code 0, which the function rejects as a malformed op.
uint32_t op_code(std::string_view command) {
  for (size_t i = 0; i < std::size(Commit::kOps); ++i) {
    if (Commit::kOps[i] == command) return static_cast<uint32_t>(i + 1);
  }
  return 0;
}

// The layout as the function decodes it: a first byte 0 and one byte per
// integer when all are below 256, else 1 and LEB128.
std::string encode_layout(const std::vector<uint32_t>& layout) {
  std::string out;
  const bool small = std::all_of(layout.begin(), layout.end(), [](uint32_t v) { return v < 256; });
  out.reserve(layout.size() * (small ? 1 : 2) + 1);
  out.push_back(small ? 0 : 1);
  for (uint32_t v : layout) {
    if (small) {
      out.push_back(static_cast<char>(v));
      continue;
    }
    for (; v >= 128; v >>= 7) out.push_back(static_cast<char>(0x80 | (v & 0x7f)));
    out.push_back(static_cast<char>(v));
  }
  return out;
}

}  // namespace

Commit::Commit(uint32_t guard, std::string row_key) {
  layout_ = {0, 0, guard};  // key and string counts are filled in by argv()
  key_index(row_key);       // KEYS[1] is always the row
  guard_size_ = layout_.size();
}

Commit Commit::fenced(std::string row_key, std::string lease_key, std::string_view node,
                      uint64_t epoch, uint64_t expected_version) {
  Commit c(kFenced, std::move(row_key));
  c.layout_.push_back(c.key_index(lease_key));
  c.strings_.emplace_back(node);
  c.strings_.push_back(std::to_string(epoch));
  c.strings_.push_back(std::to_string(expected_version));
  c.guard_size_ = c.layout_.size();
  return c;
}

Commit Commit::idle(std::string row_key, const std::string& inbox_key, uint64_t expected_version) {
  Commit c(kIdle, std::move(row_key));
  c.layout_.push_back(c.key_index(inbox_key));
  c.strings_.push_back(std::to_string(expected_version));
  c.guard_size_ = c.layout_.size();
  return c;
}

Commit Commit::create(std::string row_key) {
  Commit c(kCreate, std::move(row_key));
  c.layout_.push_back(0);  // how many first ops run only when replacing
  c.guard_size_ = c.layout_.size();
  return c;
}

void Commit::only_when_replacing() {
  if (layout_[2] == kCreate) layout_[3] = op_count_;
}
Commit Commit::live(std::string row_key) { return Commit(kLive, std::move(row_key)); }
Commit Commit::finished(std::string row_key) { return Commit(kFinal, std::move(row_key)); }
Commit Commit::failed(std::string row_key) { return Commit(kFailed, std::move(row_key)); }

int Commit::not_failed_status(const Status& error) {
  constexpr std::string_view kPrefix = "DURABLE_NOTFAILED ";
  const std::string& m = error.message();
  if (error.code() != Errc::failed_precondition || !m.starts_with(kPrefix)) return -1;
  int status = 0;
  for (size_t i = kPrefix.size(); i < m.size(); ++i) {
    if (m[i] < '0' || m[i] > '9') return -1;
    status = status * 10 + (m[i] - '0');
  }
  return m.size() > kPrefix.size() ? status : -1;
}

uint32_t Commit::key_index(const std::string& key) {
  auto [it, inserted] = key_positions_.try_emplace(key, static_cast<uint32_t>(keys_.size() + 1));
  if (inserted) keys_.push_back(key);
  return it->second;
}

void Commit::add_op(std::string_view command, const std::string& key, size_t argument_count) {
  ++op_count_;
  layout_.push_back(op_code(command));
  layout_.push_back(key_index(key));
  layout_.push_back(static_cast<uint32_t>(argument_count));
}

void Commit::write(std::string_view command, const std::string& key,
                   std::initializer_list<std::string_view> args) {
  add_op(command, key, args.size());
  strings_.insert(strings_.end(), args.begin(), args.end());
}

void Commit::write(std::string_view command, const std::string& key,
                   const std::vector<std::string>& args) {
  add_op(command, key, args.size());
  strings_.insert(strings_.end(), args.begin(), args.end());
}

void Commit::write_members(std::string_view command, const std::string& key, const std::vector<std::string>& members) {
  for (size_t first = 0; first < members.size(); first += kMaxMembers) {
    const size_t n = std::min(kMaxMembers, members.size() - first);
    add_op(command, key, n);
    strings_.insert(strings_.end(), members.begin() + static_cast<std::ptrdiff_t>(first),
                    members.begin() + static_cast<std::ptrdiff_t>(first + n));
  }
}

void Commit::remove_if_drained(const std::string& set_key, std::string_view member, const std::string& stream_key) {
  add_op("SREMIFDRAINED", set_key, 1);
  layout_.push_back(key_index(stream_key));
  strings_.emplace_back(member);
}

void Commit::copy(const std::string& key, const std::string& destination) {
  add_op("COPY", key, 0);
  layout_.push_back(key_index(destination));
}

std::vector<std::string> Commit::argv() && {
  layout_[0] = static_cast<uint32_t>(keys_.size());
  layout_[1] = static_cast<uint32_t>(strings_.size());
  std::vector<std::string> argv;
  argv.reserve(4 + keys_.size() + strings_.size());
  argv.emplace_back("FCALL");
  argv.emplace_back("durable_commit");
  argv.push_back(std::to_string(keys_.size()));
  argv.insert(argv.end(), std::make_move_iterator(keys_.begin()), std::make_move_iterator(keys_.end()));
  argv.push_back(encode_layout(layout_));
  argv.insert(argv.end(), std::make_move_iterator(strings_.begin()), std::make_move_iterator(strings_.end()));
  return argv;
}

std::vector<std::string> Commit::merge(std::vector<std::vector<std::string>>&& argvs) {
  size_t keys = 0, size = 3;
  for (const auto& a : argvs) {
    keys += std::stoul(a[2]);
    size += a.size() - 3;
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
  for (auto& a : argvs) {  // then each one's layout and strings
    const size_t n = std::stoul(a[2]);
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
