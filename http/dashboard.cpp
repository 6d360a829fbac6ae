#include "http/dashboard.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "http/route_support.hpp"

namespace durable::http {
namespace {

constexpr std::string_view kPrefix = "/dashboard/";
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// The type a file's extension says; files of other kinds are not served.
std::string_view content_type(std::string_view name) {
  const auto ends = [&](std::string_view ext) { return name.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  return {};
}

// A strong validator from the bytes (FNV-1a, 64 bits): a new build with a
// changed file has a new tag, so no-cache revalidation finds it.
std::string etag(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (int shift = 60; shift >= 0; shift -= 4) tag += kHex[(h >> shift) & 0xf];
  return tag + "\"";
}

struct Served {
  std::string_view bytes;
  std::string_view type;
  std::string etag;
};

// The built-in files by name, with their types and tags (computed once).
const std::unordered_map<std::string_view, Served>& files() {
  static const std::unordered_map<std::string_view, Served> map = [] {
    std::unordered_map<std::string_view, Served> m;
    for (const auto& a : dashboard_assets::all()) {
      const std::string_view type = content_type(a.name);
      if (!type.empty()) m.emplace(a.name, Served{a.bytes, type, etag(a.bytes)});
    }
    return m;
  }();
  return map;
}

// The headers every dashboard answer has, errors and redirects included.
void secure(Response& res) {
  res.set_header("Content-Security-Policy", kPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Cache-Control", "no-cache");
}

// Relative, so that it resolves to /dashboard/ from both "/" and
// "/dashboard", and stays under a proxy's path prefix (--public-url).
Response redirect() {
  Response res;
  secure(res);
  res.status = 302;
  res.set_header("Location", "dashboard/");
  return res;
}

}  // namespace

std::optional<Response> serve_dashboard(const Request& req) {
  const bool root = req.segments.empty();
  const bool ours = root || req.segments.front() == "dashboard";
  if (!ours) return std::nullopt;
  if (root && req.method != "GET") return std::nullopt;  // the API's 404 (or 401)
  Response res;
  secure(res);
  if (req.method != "GET") {
    res.set_header("Allow", "GET");
    fail(res, 405, "the dashboard answers GET only");
    return res;
  }
  // "/" and "/dashboard" (no trailing slash: relative links would miss).
  if (root || (req.segments.size() == 1 && !req.path.starts_with(kPrefix))) return redirect();
  // The file's name as sent (not decoded: "%2F" or "..%2F" names no file).
  const std::string_view name = req.segments.size() == 1 ? std::string_view("index.html")
                                : req.segments.size() == 2 ? std::string_view(req.segments[1])
                                                           : std::string_view();
  const auto& map = files();
  const auto found = name.empty() ? map.end() : map.find(name);
  if (found == map.end()) {
    fail(res, 404, "no file '" + excerpt(req.path) + "' in the dashboard");
    return res;
  }
  const Served& file = found->second;
  res.set_header("ETag", file.etag);
  if (req.header("If-None-Match") == file.etag) {
    res.status = 304;
    return res;
  }
  res.set_content(std::string(file.bytes), std::string(file.type));
  return res;
}

}  // namespace durable::http
