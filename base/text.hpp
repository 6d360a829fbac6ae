#pragma once
// Text helpers. ASCII case folding: Durable Functions compares function,
// event and entity names case-insensitively (ordinal, ignore case).

#include <string>
#include <string_view>

namespace durable {

std::string ascii_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
/// Percent-encodes all but RFC 3986's unreserved characters, for a URL's
/// path segment or query value.
std::string url_encode(std::string_view text);

}  // namespace durable
