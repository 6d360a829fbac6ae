// The dashboard's serving (http/dashboard.hpp): the redirect from '/', the
// built-in files with their types and security headers, no key for them
// while the API still wants it, and nothing but the built-in files.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/http/http_fixture.hpp"

namespace durable::http {
namespace {

const std::string kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::filesystem::path source_dir() { return std::filesystem::path(DURABLE_SOURCE_DIR) / "dashboard"; }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class DashboardServingTest : public HttpTest {
 protected:
  httplib::Result page(const std::string& path, const httplib::Headers& headers = {}) {
    return client_->Get(path.c_str(), headers);
  }
  // The status line of the answer to `target` sent byte for byte (httplib
  // would normalise or encode it).
  std::string raw_status(const std::string& target) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(http_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    std::string answer;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, static_cast<size_t>(n));
    ::close(fd);
    return answer.substr(0, answer.find("\r\n"));
  }
  static void expect_secure(const httplib::Result& r) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get_header_value("Content-Security-Policy"), kPolicy);
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
  }
};

TEST_F(DashboardServingTest, TheRootAndTheBareFolderRedirectToTheDashboard) {
  for (const char* path : {"/", "/dashboard"}) {
    auto r = page(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 302) << path;
    // Relative: from "/" and from "/dashboard" alike it resolves to /dashboard/
    // (a browser follows it; tests/dashboard checks where it ends).
    EXPECT_EQ(r->get_header_value("Location"), "dashboard/") << path;
    expect_secure(r);
  }
}

TEST_F(DashboardServingTest, TheIndexIsHtmlWithThePolicyAndLoadsOnlyItsOwnModule) {
  auto r = page("/dashboard/");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  expect_secure(r);
  EXPECT_EQ(r->body, read_file(source_dir() / "index.html"));
  // No inline script or style (the policy would block them): every script
  // has a src, and no element carries a style attribute.
  EXPECT_NE(r->body.find(R"(<script type="module" src="main.js"></script>)"), std::string::npos);
  EXPECT_FALSE(std::regex_search(r->body, std::regex(R"(<script(?![^>]*\bsrc=))")));
  EXPECT_FALSE(std::regex_search(r->body, std::regex(R"(<style|\sstyle=|\son[a-z]+=)", std::regex::icase)));
  EXPECT_EQ(page("/dashboard/index.html")->body, r->body);
}

TEST_F(DashboardServingTest, EveryFileOfTheFolderIsServedAsBuiltWithItsType) {
  size_t served = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir())) {
    const std::string name = entry.path().filename().string();
    const std::string ext = entry.path().extension().string();
    auto r = page("/dashboard/" + name);
    ASSERT_TRUE(r) << name;
    ASSERT_EQ(r->status, 200) << name << ": " << r->body;
    EXPECT_EQ(r->body, read_file(entry.path())) << name << " differs from the built-in copy: rebuild";
    const std::string type = r->get_header_value("Content-Type");
    const std::string want = ext == ".js"    ? "text/javascript; charset=utf-8"
                             : ext == ".css"  ? "text/css; charset=utf-8"
                             : ext == ".html" ? "text/html; charset=utf-8"
                                              : type;
    EXPECT_EQ(type, want) << name;
    expect_secure(r);
    ++served;
  }
  EXPECT_GE(served, 10u);  // index, css, api, dom, main and a module per page
}

TEST_F(DashboardServingTest, AnUnchangedFileIsAnswered304ToItsETag) {
  auto first = page("/dashboard/app.css");
  ASSERT_TRUE(first);
  const std::string tag = first->get_header_value("ETag");
  ASSERT_FALSE(tag.empty());
  auto again = page("/dashboard/app.css", {{"If-None-Match", tag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  EXPECT_NE(page("/dashboard/main.js")->get_header_value("ETag"), tag);
  EXPECT_EQ(page("/dashboard/app.css", {{"If-None-Match", "\"other\""}})->status, 200);
}

TEST_F(DashboardServingTest, WithAKeyThePagesNeedNoneButTheApiStillDoes) {
  serve("s3cret");
  EXPECT_EQ(page("/")->status, 302);
  EXPECT_EQ(page("/dashboard/")->status, 200);
  EXPECT_EQ(page("/dashboard/main.js")->status, 200);
  EXPECT_EQ(page("/dashboard/nothing.js")->status, 404);
  auto api = get("/instances");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 401);
  EXPECT_EQ(client_->Get((kBase + "/instances").c_str(), {{"Authorization", "Bearer s3cret"}})->status, 200);
  // Not the dashboard: still the API's, key first.
  EXPECT_EQ(client_->Post("/", "", "text/plain")->status, 401);
}

TEST_F(DashboardServingTest, UnknownFilesAndEscapesAre404) {
  for (const char* path : {"/dashboard/nothing.js", "/dashboard/app.css.bak", "/dashboard/a/main.js"}) {
    auto r = page(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_NE(r->body.find("\"error\""), std::string::npos) << r->body;
    expect_secure(r);
  }
  // Byte for byte, as a hostile client sends them.
  for (const char* target : {"/dashboard/../CMakeLists.txt", "/dashboard/..%2FCMakeLists.txt",
                             "/dashboard/%2e%2e/http/api.cpp", "/dashboard/..%2f..%2fetc%2fpasswd",
                             "/dashboard/%2E%2E%2Fdashboard%2Fmain.js", "/dashboard//etc/passwd"}) {
    EXPECT_EQ(raw_status(target), "HTTP/1.1 404 Not Found") << target;
  }
}

TEST_F(DashboardServingTest, OnlyGetIsAnswered) {
  auto r = client_->Post("/dashboard/main.js", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
  EXPECT_EQ(client_->Delete("/dashboard/")->status, 405);
}

}  // namespace
}  // namespace durable::http
