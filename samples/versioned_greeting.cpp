// VersionedGreeting (orchestration versioning): code that changed between
// versions branches on ctx.version(), so instances started under the old
// code replay and finish the old way on nodes running the new code.
#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;

Task<std::string> versioned_greeting(OrchestrationContext& ctx, std::string name) {
  co_await ctx.wait_for_external_event("Go");  // any data, or none
  if (compare_versions(ctx.version(), "2.0") < 0) co_return "v1: hello " + name;
  co_return "v2: hello " + name;
}
}  // namespace

void register_versioned_greeting(Registry& registry) {
  registry.add_orchestrator("VersionedGreeting", versioned_greeting);
}

}  // namespace durable::samples
