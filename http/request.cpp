#include "http/request.hpp"

#include <algorithm>

#include "base/text.hpp"

namespace durable::http {

Request::Request(std::string method_, std::string_view target) : method(std::move(method_)) {
  const size_t question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  path = url_decode(raw_path, false);
  for (size_t start = 0; start < raw_path.size();) {
    const size_t slash = raw_path.find('/', start);
    const size_t end = slash == std::string_view::npos ? raw_path.size() : slash;
    if (end > start) segments.emplace_back(raw_path.substr(start, end - start));
    start = end + 1;
  }
  if (question == std::string_view::npos) return;
  const std::string_view query = target.substr(question + 1);
  for (size_t start = 0; start < query.size();) {
    const size_t amp = std::min(query.find('&', start), query.size());
    const std::string_view pair = query.substr(start, amp - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      params.emplace_back(url_decode(pair.substr(0, eq), true),
                          eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1), true));
    }
    start = amp + 1;
  }
}

bool Request::has_param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return true;
  }
  return false;
}

std::string Request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

}  // namespace durable::http
