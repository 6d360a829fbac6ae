#include "orchestration/entity_id.hpp"

#include "base/text.hpp"

namespace durable::orchestration {
namespace {

constexpr size_t kMaxNameLength = 128;
constexpr size_t kMaxKeyLength = 256;

Status check_part(std::string_view what, std::string_view text, size_t max, bool allow_at) {
  if (text.empty()) return Status::invalid_argument("entity " + std::string(what) + " is empty");
  if (text.size() > max) {
    return Status::invalid_argument("entity " + std::string(what) + " is " + std::to_string(text.size()) +
                                    " bytes long; the limit is " + std::to_string(max));
  }
  if (auto at = invalid_utf8_at(text)) {
    return Status::invalid_argument("entity " + std::string(what) + " \"" + escape_non_ascii(text.substr(0, 64)) +
                                    "\" is not valid UTF-8 at byte " + std::to_string(*at) +
                                    "; names and keys are UTF-8 text");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool bad = c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '#' || c == '?' || (c == '@' && !allow_at);
    if (bad) {
      const std::string shown = c < 0x20 || c == 0x7f ? "a control character" : "'" + std::string(1, text[i]) + "'";
      return Status::invalid_argument("entity " + std::string(what) + " \"" + std::string(text.substr(0, 64)) +
                                      "\" has " + shown + " at position " + std::to_string(i) +
                                      " (not allowed: / \\ # ? control characters" +
                                      (allow_at ? ")" : ", @)"));
    }
  }
  return Status::ok();
}

}  // namespace

EntityId::EntityId(std::string_view name, std::string key)
    : name_(ascii_lower(name)), key_(std::move(key)) {}

Result<EntityId> EntityId::parse(std::string_view text) {
  if (text.starts_with('@')) text.remove_prefix(1);
  const auto at = text.find('@');
  if (at == std::string_view::npos) {
    return Status::invalid_argument("entity id \"" + std::string(text.substr(0, 64)) +
                                    "\" has no '@': write it as name@key, e.g. Counter@c1");
  }
  EntityId id(text.substr(0, at), std::string(text.substr(at + 1)));
  if (Status s = id.validate(); !s) return s;
  return id;
}

Status EntityId::validate() const {
  if (Status s = check_part("name", name_, kMaxNameLength, false); !s) return s;
  return check_part("key", key_, kMaxKeyLength, true);
}

}  // namespace durable::orchestration
