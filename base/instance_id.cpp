#include "base/instance_id.hpp"

#include "base/guid.hpp"
#include "base/text.hpp"

namespace durable {
namespace {

// Ids longer than this are quoted shortened in messages, so a 10 KB id does
// not produce a 10 KB log line.
constexpr std::size_t kMaxQuotedBytes = 64;
static_assert(kMaxQuotedBytes < kMaxInstanceIdLength, "a too-long id must be shown shortened, with its length");

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Appends `c` in a printable, unambiguous form: control bytes (and, for an
// id that is not UTF-8, every byte above ASCII) as \xNN, a backslash
// doubled and, inside a quoted id, the quote escaped.
void append_printable(std::string& out, unsigned char c, char quote, bool escape_high = false) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (is_control(c) || (escape_high && c >= 0x80)) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0x0f];
  } else if (c == '\\' || c == static_cast<unsigned char>(quote)) {
    out += '\\';
    out += static_cast<char>(c);
  } else {
    out += static_cast<char>(c);
  }
}

// `instance id "..."` with the id escaped and cut to kMaxQuotedBytes.
std::string describe(std::string_view id, bool escape_high = false) {
  std::string out = "instance id \"";
  const std::string_view shown = id.substr(0, kMaxQuotedBytes);
  for (char c : shown) append_printable(out, static_cast<unsigned char>(c), '"', escape_high);
  out += '"';
  if (shown.size() < id.size()) out += "... (" + std::to_string(id.size()) + " bytes)";
  return out;
}

std::string quote_char(unsigned char c) {
  std::string out = "'";
  append_printable(out, c, '\'');
  out += '\'';
  return out;
}

}  // namespace

Status validate_instance_id(std::string_view id) {
  if (id.empty()) {
    return Status::invalid_argument("instance id is empty; it must have 1 to " +
                                    std::to_string(kMaxInstanceIdLength) + " characters");
  }
  if (id.size() > kMaxInstanceIdLength) {
    // describe() adds the length: a too-long id is always shortened.
    return Status::invalid_argument(describe(id) + " is too long; at most " +
                                    std::to_string(kMaxInstanceIdLength) + " characters are allowed");
  }
  if (auto at = invalid_utf8_at(id)) {
    return Status::invalid_argument(describe(id, /*escape_high=*/true) + " is not valid UTF-8 at byte " +
                                    std::to_string(*at) + "; an id is UTF-8 text");
  }
  if (id.front() == '@') {
    return Status::invalid_argument(describe(id) +
                                    " starts with '@', which is reserved for entity ids");
  }
  for (std::size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c == '/' || c == '\\' || c == '#' || c == '?') {
      return Status::invalid_argument(describe(id) + " contains " + quote_char(c) + " at position " +
                                      std::to_string(i) +
                                      "; '/', '\\\\', '#' and '?' are not allowed");
    }
    if (is_control(c)) {
      return Status::invalid_argument(describe(id) + " contains control character " + quote_char(c) +
                                      " at position " + std::to_string(i) +
                                      "; control characters (\\x00-\\x1f, \\x7f) are not allowed");
    }
  }
  return Status::ok();
}

std::string new_instance_id() { return random_guid(); }

}  // namespace durable
