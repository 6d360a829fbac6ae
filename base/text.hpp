#pragma once
// Text helpers. ASCII case folding: Durable Functions compares function,
// event and entity names case-insensitively (ordinal, ignore case).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace durable {

std::string ascii_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
/// Percent-encodes all but RFC 3986's unreserved characters, for a URL's
/// path segment or query value.
std::string url_encode(std::string_view text);
/// Decodes %XX escapes (a malformed one stays as it is); with
/// `plus_is_space`, '+' becomes ' ' (a query's form encoding).
std::string url_decode(std::string_view text, bool plus_is_space);
/// Whether `given` equals `secret`, in a time that depends on the secret's
/// length only (not on where the first difference is): for comparing keys.
bool equal_in_constant_time(std::string_view given, std::string_view secret);
/// `text` itself when it has at most `max_bytes`, else its first
/// `max_bytes` followed by "... (N bytes)": for quoting client input in
/// messages without echoing all of it.
std::string shortened(std::string_view text, std::size_t max_bytes);
/// The offset of the first byte that does not begin a well-formed UTF-8
/// sequence (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF); nullopt when all of `text` is UTF-8.
std::optional<std::size_t> invalid_utf8_at(std::string_view text);
/// `text` with every byte outside printable ASCII as \xNN (for messages
/// about text that is not UTF-8).
std::string escape_non_ascii(std::string_view text);

}  // namespace durable
