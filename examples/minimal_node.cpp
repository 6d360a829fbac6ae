// The smallest node: one activity, one orchestrator, run once through the
// client. The README shows this file; CMake builds it so it stays correct.
//
//   ./build/examples/minimal_node redis://127.0.0.1:6379

#include <cstdio>

#include "client/client.hpp"
#include "cluster/node.hpp"

using namespace durable;
using namespace durable::orchestration;

std::string greet(ActivityContext&, std::string name) { return "Hello " + name; }

Task<std::string> welcome(OrchestrationContext& ctx, std::string name) {
  co_return co_await ctx.call_activity<std::string>("Greet", name);
}

int main(int argc, char** argv) {
  Registry registry;
  registry.add_activity("Greet", greet);
  registry.add_orchestrator("Welcome", welcome);

  cluster::NodeOptions options;
  auto address = store::RedisAddress::parse(argc > 1 ? argv[1] : "redis://127.0.0.1:6379");
  if (!address) return 2;
  options.store.address = *address;
  entities::EntityRegistry entities;  // none here; see samples/entities.cpp
  auto node = cluster::Node::start(registry, entities, options);  // owns the partitions now
  if (!node) {
    std::fprintf(stderr, "%s\n", node.status().to_string().c_str());
    return 1;
  }

  auto client = client::Client::connect({.address = options.store.address});
  if (!client) return 1;
  auto id = (*client)->start("Welcome", to_payload(std::string("Ada")));
  auto done = (*client)->wait(*id, std::chrono::seconds(10));
  if (done) std::printf("%s\n", from_payload<std::string>(done->output).c_str());  // Hello Ada
  (*node)->stop();
  return done ? 0 : 1;
}
