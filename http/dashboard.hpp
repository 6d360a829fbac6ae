#pragma once
// The dashboard: the browser pages in dashboard/ (HTML, CSS and JavaScript
// modules written here), built into the binary by cmake/embed_dashboard.cmake
// and served by every node at /dashboard/. The pages and their files need no
// key: they hold no data. Every data call they make goes to the API with the
// key, which the user enters in the page (sessionStorage, sent as a bearer
// token). Each answer carries a Content-Security-Policy that allows only the
// node's own scripts and styles (no inline script) and no framing.

#include <optional>
#include <span>
#include <string_view>

#include "http/request.hpp"

namespace durable::http {

/// The answer when `req` is the dashboard's, nullopt when it is not (the
/// API's routes and key check take it then):
///   GET /                    302 to /dashboard/ (Location: dashboard/, relative,
///   GET /dashboard           302 to /dashboard/  so a proxy's path prefix stays)
///   GET /dashboard/          index.html
///   GET /dashboard/<file>    the file, with its Content-Type, an ETag and
///                            Cache-Control: no-cache (If-None-Match: 304)
/// Any other file under /dashboard/ (a name not built in, a deeper path, an
/// encoded '/' or '..') is 404; a method other than GET there is 405 (HEAD
/// too: the server writes every answer's body).
std::optional<Response> serve_dashboard(const Request& req);

namespace dashboard_assets {

/// One file of dashboard/: its name there and its bytes.
struct Asset {
  std::string_view name;
  std::string_view bytes;
};
/// Every file of dashboard/ as it was at build time, sorted by name
/// (defined in the generated dashboard_assets.cpp).
std::span<const Asset> all();

}  // namespace dashboard_assets
}  // namespace durable::http
