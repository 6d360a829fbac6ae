#pragma once
// Orchestration instance ids: the rules a caller-supplied id must follow and
// a generator for new ones.
//
// Rules:
//   - 1 to kMaxInstanceIdLength bytes of well-formed UTF-8;
//   - must not start with '@' (that prefix is reserved for entity ids);
//   - no '/', '\', '#' or '?' (they break URLs and Redis key layouts);
//   - no control characters (0x00-0x1F and 0x7F).
// So any UTF-8 text without the characters above is a valid id.

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace durable {

/// Longest valid instance id, in bytes.
inline constexpr std::size_t kMaxInstanceIdLength = 256;

/// OK if `id` follows every rule above. Otherwise Errc::invalid_argument with
/// a message that quotes the id (control bytes as \xNN, backslash and quote
/// escaped, long ids shortened) and names the first broken rule; for a bad
/// character it gives the character and its 0-based byte position. Pure;
/// safe from any thread.
Status validate_instance_id(std::string_view id);

/// A new random instance id: 32 lower-case hex digits (see random_guid()),
/// which always passes validate_instance_id. Safe from any thread.
std::string new_instance_id();

}  // namespace durable
