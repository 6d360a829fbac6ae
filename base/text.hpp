#pragma once
// ASCII case folding: Durable Functions compares function, event and entity
// names case-insensitively (ordinal, ignore case).

#include <string>
#include <string_view>

namespace durable {

std::string ascii_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);

}  // namespace durable
